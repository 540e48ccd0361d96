package airflowcfg

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
)

//go:embed keys
var keysFS embed.FS

// Keys is the set of valid keys of one Airflow minor version.
type Keys struct {
	// Line is the minor version the list is for, e.g. "3.3".
	Line string
	// valid holds "section.key" names.
	valid map[string]bool
	// deprecated maps an alias Airflow still reads to the key it stands for.
	deprecated map[string]string
	// removed maps a key Airflow 3 no longer reads to its replacement ("" when none).
	removed map[string]string
	sorted  []string
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*Keys{}
)

// ForVersion returns the keys of the Airflow version's minor line (3.3.2 reads keys-3.3.txt).
func ForVersion(version string) (*Keys, error) {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return nil, fmt.Errorf("airflow version %q has no minor part", version)
	}
	line := parts[0] + "." + parts[1]
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if k, ok := cache[line]; ok {
		return k, nil
	}
	k := &Keys{Line: line, valid: map[string]bool{}, deprecated: map[string]string{}, removed: map[string]string{}}
	if err := readLines("keys/keys-"+line+".txt", func(f []string) { k.valid[f[0]] = true }); err != nil {
		return nil, fmt.Errorf("no key list for Airflow %s: %w", line, err)
	}
	_ = readLines("keys/deprecated-"+line+".tsv", func(f []string) {
		if len(f) > 1 {
			k.deprecated[f[0]] = f[1]
		}
	})
	if parts[0] == "3" {
		if err := readLines("keys/removed-3.tsv", func(f []string) {
			switch {
			case len(f) > 2 && f[1] == "renamed_to":
				k.removed[f[0]] = f[2]
			case len(f) > 1 && f[1] == "removed":
				k.removed[f[0]] = ""
			}
		}); err != nil {
			return nil, err
		}
	}
	for key := range k.valid {
		k.sorted = append(k.sorted, key)
	}
	sort.Strings(k.sorted)
	cache[line] = k
	return k, nil
}

// readLines calls fn with the tab-separated fields of every line that is not a comment.
func readLines(name string, fn func([]string)) error {
	f, err := keysFS.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, "\t"))
	}
	return s.Err()
}

// Verdict is what Check found about one key.
type Verdict int

// The verdicts, from fine to fatal.
const (
	Valid Verdict = iota
	// Deprecated keys still work but Airflow warns; Replacement names the new key.
	Deprecated
	// Unknown keys are ignored by Airflow; Replacement is the closest valid key.
	Unknown
	// Removed keys were dropped or renamed by Airflow 3; Replacement names the new key, if any.
	Removed
)

// Check classifies "section.key" (lower-case) for this version.
func (k *Keys) Check(key string) (Verdict, string) {
	key = strings.ToLower(key)
	base := strings.TrimSuffix(strings.TrimSuffix(key, "_cmd"), "_secret")
	if k.valid[key] || k.valid[base] {
		return Valid, ""
	}
	// Airflow 3 still reads some renamed keys as deprecated aliases, but `airflow config
	// lint` flags them and a later release drops them: the rename wins.
	for _, name := range []string{key, base} {
		if repl, ok := k.removed[name]; ok {
			return Removed, repl
		}
	}
	for _, name := range []string{key, base} {
		if repl := k.deprecated[name]; repl != "" {
			return Deprecated, repl
		}
	}
	return Unknown, k.closest(key)
}

// Has tells whether key is valid for this version.
func (k *Keys) Has(key string) bool { return k.valid[key] }

// closest returns the valid key with the smallest edit distance, preferring the same section.
func (k *Keys) closest(key string) string {
	best, bestD := "", 1<<30
	section, _, _ := strings.Cut(key, ".")
	for _, cand := range k.sorted {
		d := distance(key, cand)
		if s, _, _ := strings.Cut(cand, "."); s != section {
			d++
		}
		if d < bestD {
			best, bestD = cand, d
		}
	}
	return best
}

// distance is the Levenshtein distance of two strings.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Lines lists the minor versions that have key lists.
func Lines() []string {
	entries, _ := fs.Glob(keysFS, "keys/keys-*.txt")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(e, "keys/keys-"), ".txt"))
	}
	return out
}
