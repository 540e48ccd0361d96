// Package diag carries the problems airkube finds in a spec: each names the file, the
// line, the field path and what would be valid, so a user can fix every one in one pass.
package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Location is where a field's value was written.
type Location struct {
	File string
	Line int
}

// Problem is one finding about one field. Warnings do not stop a render.
type Problem struct {
	Location
	Path    string
	Message string
	Warning bool
}

func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// List is every problem found; as an error it holds only the errors, one per line.
type List []Problem

// Errors returns the problems that are not warnings.
func (l List) Errors() List { return l.filter(false) }

// Warnings returns the problems that are warnings.
func (l List) Warnings() List { return l.filter(true) }

func (l List) filter(warning bool) List {
	var out List
	for _, p := range l {
		if p.Warning == warning {
			out = append(out, p)
		}
	}
	return out
}

// Sort orders problems by file, line and path so output is stable.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Path < b.Path
	})
}

// Err returns the list as an error when it holds any error, else nil.
func (l List) Err() error {
	if len(l.Errors()) == 0 {
		return nil
	}
	return l.Errors()
}

func (l List) Error() string {
	lines := make([]string, len(l))
	for i, p := range l {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
