// Command airkube renders a Helm release chart for Apache Airflow from a compact spec.
package main

import (
	"os"

	"github.com/airkube/airkube/generator/cli"
)

func main() {
	if err := cli.Run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		os.Exit(1)
	}
}
