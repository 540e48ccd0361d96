// Command airkube renders a Helm release chart for Apache Airflow from a compact spec.
package main

import (
	"os"
	"runtime/debug"

	"github.com/airkube/airkube/generator/cli"
)

func main() {
	// A render allocates 10-40 MiB and exits: the collector runs only when the Go heap nears
	// 16 MiB, not every time it doubles. The default collector cost a fifth of a run; with no
	// collection at all the peak RSS was 44 MiB for the weather release and 64 MiB for 100
	// task groups, against 38 and 40 MiB with this limit (make bench).
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(16 << 20)
	if err := cli.Run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		os.Exit(1)
	}
}
