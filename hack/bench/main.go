// Command bench runs a command several times and prints its median wall time and its peak resident
// memory (the largest of the runs' max RSS, from the kernel's rusage), for make bench's side-by-side
// figures:
//
//	go run ./hack/bench [-n RUNS] LABEL -- COMMAND [ARG...]
//	go run ./hack/bench -spec-groups N    (prints the N-group spec of BenchmarkRender)
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/airkube/airkube/internal/benchspec"
)

func main() {
	runs := flag.Int("n", 21, "runs")
	groups := flag.Int("spec-groups", 0, "print the spec of BenchmarkRender with this many task groups, and exit")
	flag.Parse()
	if *groups > 0 {
		os.Stdout.Write(benchspec.Groups(*groups))
		return
	}
	args := flag.Args()
	if len(args) < 3 || args[1] != "--" {
		fmt.Fprintln(os.Stderr, "usage: bench [-n RUNS] LABEL -- COMMAND [ARG...]")
		os.Exit(2)
	}
	label, argv := args[0], args[2:]
	var times []time.Duration
	var peak int64
	for range *runs {
		cmd := exec.Command(argv[0], argv[1:]...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr // warnings, once per run: shown only when the command fails
		start := time.Now()
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n%s", label, err, stderr.Bytes())
			os.Exit(1)
		}
		times = append(times, time.Since(start))
		if u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, u.Maxrss) // KiB on Linux
		}
	}
	slices.Sort(times)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("FIGURE bench %s: median %.1f ms (min %.1f, max %.1f, %d runs), peak RSS %.1f MiB\n",
		label, ms(times[len(times)/2]), ms(times[0]), ms(times[len(times)-1]), len(times), float64(peak)/1024)
}
