// Command airkube renders a Helm release chart for Apache Airflow from a compact spec.
package main

import (
	"os"
	"runtime/debug"

	"github.com/airkube/airkube/generator/cli"
)

func main() {
	// A render allocates ~10 MiB and exits: collecting garbage only past a generous
	// limit keeps the default collector from costing a fifth of the run.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(512 << 20)
	if err := cli.Run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		os.Exit(1)
	}
}
