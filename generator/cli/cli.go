// Package cli is airkube's command line: render, validate and schema. Run holds the
// whole program so it can be tested without a process; only main calls os.Exit.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/diag"
	"github.com/airkube/airkube/generator/importer"
	"github.com/airkube/airkube/generator/jsonschema"
	"github.com/airkube/airkube/generator/render"
	"github.com/airkube/airkube/generator/upgrade"
)

// errReported marks an error already printed to stderr.
var errReported = errors.New("reported")

// Run executes airkube with args; problems go to stderr and make it return an error.
func Run(args []string, stdout, stderr io.Writer) error {
	root := &cobra.Command{
		Use:           "airkube",
		Short:         "Render a Helm release chart for Apache Airflow from a compact spec",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(args)

	var spec, out string
	var overlays []string
	addSpecFlags := func(c *cobra.Command) {
		c.Flags().StringVarP(&spec, "file", "f", "", "the spec file (airkube/v1alpha1 AirflowRelease)")
		c.Flags().StringArrayVar(&overlays, "overlay", nil, "an overlay file or folder (its overlay.yaml), applied in order; repeatable")
		_ = c.MarkFlagRequired("file")
	}
	renderCmd := &cobra.Command{
		Use:   "render -f SPEC [--overlay PATH]... [--out DIR]",
		Short: "Write DIR/<name>/ (the chart) and DIR/<name>.yaml (its rendered manifests)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			res, err := render.Files(spec, overlays...)
			if err != nil {
				return report(stderr, err)
			}
			printWarnings(stderr, res.Warnings)
			if err := render.Write(res, out); err != nil {
				return report(stderr, err)
			}
			fmt.Fprintf(stdout, "wrote %s/%s/ and %s/%s.yaml\n", out, res.Name(), out, res.Name())
			return nil
		},
	}
	addSpecFlags(renderCmd)
	renderCmd.Flags().StringVar(&out, "out", "out", "output folder")

	validateCmd := &cobra.Command{
		Use:   "validate -f SPEC [--overlay PATH]...",
		Short: "Print every problem of a spec; exit 1 if any is an error",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			problems, err := render.Check(spec, overlays...)
			if err != nil {
				return report(stderr, err)
			}
			printWarnings(stderr, problems.Warnings())
			if err := problems.Err(); err != nil {
				return report(stderr, err)
			}
			fmt.Fprintln(stdout, "valid")
			return nil
		},
	}
	addSpecFlags(validateCmd)

	schemaCmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the spec's JSON Schema (for editors' YAML completion)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s := jsonschema.For(reflect.TypeOf(v1alpha1.AirflowRelease{}), "airkube "+v1alpha1.APIVersion+" "+v1alpha1.Kind)
			data, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(stdout, string(data))
			return err
		},
	}
	var valuesFiles, envFiles []string
	var specOut, overlaysDir string
	var importOpts importer.Options
	importCmd := &cobra.Command{
		Use:   "import -f VALUES [-f VALUES]... [--env NAME=VALUES]... [-o SPEC] [--overlays DIR] [--release NAME] [--namespace NS]",
		Short: "Write an airkube spec from the official Airflow chart's values files; report every value on stderr",
		Long: "Reads the values files of a release of the official Apache Airflow chart (1.15 to 1.22), later\n" +
			"files over earlier ones as helm -f merges them, and writes the airkube spec that takes the release\n" +
			"over (stdout, or the -o file). Every value the files set gets one report line on stderr: carried,\n" +
			"and to which field, or not carried, and why; values that need your action come with the command\n" +
			"to run. Passwords and keys in the values never reach the spec or the report.\n\n" +
			"--env NAME=FILE imports an environment's values file (one you pass after the shared ones with\n" +
			"helm -f) as an overlay, DIR/NAME/overlay.yaml, holding only what it changes in the spec; render\n" +
			"with --overlay DIR/NAME. Nothing is written unless every file imports.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			read := func(f string) (importer.Input, error) {
				data, err := os.ReadFile(f)
				return importer.Input{Name: f, Data: data}, err
			}
			var inputs []importer.Input
			for _, f := range valuesFiles {
				in, err := read(f)
				if err != nil {
					return report(stderr, err)
				}
				inputs = append(inputs, in)
			}
			var envs []importer.Env
			for _, e := range envFiles {
				name, file, ok := strings.Cut(e, "=")
				if !ok || name == "" || file == "" {
					return report(stderr, fmt.Errorf("--env %q: give NAME=VALUES, e.g. --env production=values-production.yaml", e))
				}
				in, err := read(file)
				if err != nil {
					return report(stderr, err)
				}
				envs = append(envs, importer.Env{Name: name, Input: in})
			}
			if len(envs) > 0 && specOut == "" {
				return report(stderr, fmt.Errorf("--env writes overlays beside a spec file: give -o SPEC too"))
			}
			res, overlays, err := importer.ImportEnvs(inputs, envs, importOpts)
			if err != nil {
				return report(stderr, err)
			}
			lines := res.Report
			for _, o := range overlays {
				lines = append(lines, o.Report...)
			}
			counts := map[importer.Verdict]int{}
			for _, l := range lines {
				fmt.Fprintln(stderr, l.String())
				counts[l.Verdict]++
			}
			fmt.Fprintf(stderr, "airkube import: %d values: %d carried, %d not needed, %d not supported, %d need your action\n",
				len(lines), counts[importer.Carried], counts[importer.NotNeeded], counts[importer.Unsupported], counts[importer.Action])
			if specOut == "" {
				_, err := stdout.Write(res.Spec)
				return err
			}
			files := map[string][]byte{specOut: res.Spec}
			order := []string{specOut}
			for _, o := range overlays {
				path := filepath.Join(overlaysDir, o.Name, "overlay.yaml")
				files[path] = o.Spec
				order = append(order, path)
			}
			for _, path := range order {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return report(stderr, err)
				}
				if err := writeFileAtomic(path, files[path]); err != nil {
					return report(stderr, err)
				}
				fmt.Fprintf(stdout, "wrote %s\n", path)
			}
			return nil
		},
	}
	importCmd.Flags().StringArrayVarP(&valuesFiles, "file", "f", nil, "a values file of the official chart; repeatable, later files win")
	importCmd.Flags().StringArrayVar(&envFiles, "env", nil, "NAME=VALUES: an environment's values file, over the -f files, written as the overlay DIR/NAME/overlay.yaml; repeatable")
	importCmd.Flags().StringVarP(&specOut, "out", "o", "", "the spec file to write (default: stdout)")
	importCmd.Flags().StringVar(&overlaysDir, "overlays", "overlays", "the folder of the --env overlays")
	importCmd.Flags().StringVar(&importOpts.Release, "release", "airflow", "the official chart's Helm release name, which the airkube release takes over")
	importCmd.Flags().StringVar(&importOpts.Namespace, "namespace", "airflow", "the release's namespace")
	_ = importCmd.MarkFlagRequired("file")

	var from string
	upgradeCmd := &cobra.Command{
		Use:   "upgrade-check --from RUNNING -f SPEC [--overlay PATH]...",
		Short: "Say what an upgrade from the running spec to SPEC changes; exit 1 if it cannot go ahead",
		Long: "Compares the spec the release runs (--from) with the one about to be installed (-f), both with\n" +
			"the same overlays: across Airflow versions it lists what Airflow 3 replaces (webserver, logins,\n" +
			"REST API), the airflow.cfg keys renamed or removed, and what the migration Job checks first; a\n" +
			"downgrade is an error. Then it prints the new spec's own problems, as validate does.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			old, oldProblems, err := render.Release(from, overlays...)
			if err != nil {
				return report(stderr, err)
			}
			if old == nil || oldProblems.Err() != nil {
				return report(stderr, oldProblems.Errors())
			}
			next, problems, err := render.Release(spec, overlays...)
			if err != nil {
				return report(stderr, err)
			}
			if next == nil {
				return report(stderr, problems)
			}
			notes, err := upgrade.Check(old, next)
			if err != nil {
				return report(stderr, err)
			}
			failed := false
			for _, n := range notes {
				fmt.Fprintln(stdout, n.String())
				failed = failed || n.Severity == upgrade.Error
			}
			printWarnings(stderr, problems.Warnings())
			if err := problems.Err(); err != nil {
				return report(stderr, err)
			}
			if failed {
				fmt.Fprintln(stderr, "airkube: the upgrade cannot go ahead")
				return errReported
			}
			return nil
		},
	}
	addSpecFlags(upgradeCmd)
	upgradeCmd.Flags().StringVar(&from, "from", "", "the spec the release runs now")
	_ = upgradeCmd.MarkFlagRequired("from")

	root.AddCommand(renderCmd, validateCmd, schemaCmd, importCmd, upgradeCmd)
	err := root.Execute()
	if err != nil && !errors.Is(err, errReported) {
		fmt.Fprintln(stderr, "airkube:", err)
	}
	return err
}

func report(stderr io.Writer, err error) error {
	var l diag.List
	if errors.As(err, &l) {
		fmt.Fprintln(stderr, l.Error())
		fmt.Fprintf(stderr, "airkube: %d problem(s); nothing was written\n", len(l))
	} else {
		fmt.Fprintln(stderr, "airkube:", err)
	}
	return errReported
}

func printWarnings(stderr io.Writer, w diag.List) {
	for _, p := range w {
		fmt.Fprintln(stderr, p.String())
	}
}

// writeFileAtomic writes data to path through a temporary file beside it, so a failed write leaves
// the old file (or none) in place.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
