// Package upgrade says what changes when a release moves from one Airflow version to another, before
// the operator runs helm: what Airflow 3 replaces (the webserver, the logins, the REST API), the
// airflow.cfg keys it renamed or removed, what the migration Job checks first, and whether the
// move is a downgrade, which the chart refuses.
package upgrade

import (
	"fmt"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/airkube/airkube/generator/airflowcfg"
	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// Severity orders the notes: an Error stops the upgrade, a Change needs the operator's action, Info
// says what airkube does on its own.
type Severity int

// The severities, most severe first.
const (
	Error Severity = iota
	Change
	Info
)

func (s Severity) String() string {
	return [...]string{"error", "change", "info"}[s]
}

// Note is one thing the upgrade changes or needs.
type Note struct {
	Severity Severity
	Message  string
}

func (n Note) String() string { return n.Severity.String() + ": " + n.Message }

// Check compares the release as it runs (from) with the spec about to be installed (to). Both are
// defaulted releases.
func Check(from, to *v1alpha1.AirflowRelease) ([]Note, error) {
	a, err := semver.StrictNewVersion(from.Airflow.Version)
	if err != nil {
		return nil, fmt.Errorf("the running release's airflow.version %q: %w", from.Airflow.Version, err)
	}
	b, err := semver.StrictNewVersion(to.Airflow.Version)
	if err != nil {
		return nil, fmt.Errorf("the new spec's airflow.version %q: %w", to.Airflow.Version, err)
	}
	var notes []Note
	add := func(s Severity, format string, args ...any) {
		notes = append(notes, Note{s, fmt.Sprintf(format, args...)})
	}
	switch {
	case b.Major() < a.Major() || (b.Major() == a.Major() && b.Minor() < a.Minor()):
		add(Error, "Airflow %s to %s is a downgrade: the chart refuses it before anything changes, and the migration Job's preflight refuses a database a newer Airflow migrated. Back the database up and run `airflow db downgrade --to-version %s` with Airflow %s first.", a, b, b, a)
		return notes, nil
	case a.Equal(b):
		if from.Airflow.Image != to.Airflow.Image {
			add(Info, "Airflow stays at %s; the image changes from %s to %s: every workload rolls, and the migration Job runs again (a no-op on a current schema).", a, from.Airflow.Image, to.Airflow.Image)
		} else {
			add(Info, "Airflow stays at %s: no migration.", a)
		}
		return notes, nil
	}
	add(Info, "Airflow %s to %s: the migration Job runs `airflow db migrate` once the preflight in the new image has checked the database; it fails after database.migration.timeout (%s), so give helm a --timeout at least that long.", a, b, to.Database.Migration.Timeout)
	if a.Major() == 2 && b.Major() == 3 {
		notes = append(notes, toThree(from, to)...)
	}
	notes = append(notes, configKeys(from, to)...)
	sort.SliceStable(notes, func(i, j int) bool { return notes[i].Severity < notes[j].Severity })
	return notes, nil
}

// toThree is what Airflow 3 replaces in a 2.x release.
func toThree(from, to *v1alpha1.AirflowRelease) []Note {
	var notes []Note
	add := func(s Severity, format string, args ...any) {
		notes = append(notes, Note{s, fmt.Sprintf(format, args...)})
	}
	name := to.Metadata.Name
	add(Info, "XCom moves from binary to JSON (migration 0049): the preflight stops the upgrade, naming each row, for values it cannot convert (not UTF-8, not JSON, over jsonb's 255 MiB) and for NaN, Infinity and U+0000, which the migration rewrites or fails on; database.migration.allowXComRewrites lets the rewrite happen where the new Airflow does it. Pickled values go to the _xcom_archive table.")
	add(Change, "the webserver becomes the api-server: Deployment and Service %s-webserver are replaced by %s-api-server (port 8080); port-forwards, monitors and anything else that names the old Service must follow. ui.ingress and ui.gateway follow on their own.", name, name)
	add(Change, "the REST API moves from /api/v1 (basic auth) to /api/v2, with a token from POST /auth/token: scripts and clients calling the API must change.")
	switch {
	case to.Auth.Manager == v1alpha1.AuthFAB:
		add(Info, "logins: FAB stays (auth.manager fab), now through Airflow 3's FAB auth manager, which the new image must have (apache-airflow-providers-fab): the users and roles in the database carry over, and the login page moves to /auth/login/.")
		if to.Auth.WebserverConfig != nil {
			add(Change, "auth.webserverConfig reaches the api-server as fab.config_file: Airflow 3's FAB is Flask-AppBuilder 5, so check webserver_config.py's imports and OAuth or LDAP settings against it.")
		}
	case len(to.Auth.Users) > 0:
		add(Info, "logins: auth.users log in through Airflow 3's SimpleAuthManager, with the passwords in the same Secrets; the FAB users and roles kept in the database are no longer used (auth.manager: fab keeps them).")
	default:
		add(Change, "logins: Airflow 3's SimpleAuthManager has no users unless auth.users lists them; the FAB users of the database are no longer used (auth.manager: fab keeps them).")
	}
	if from.Auth.WebserverConfig != nil && to.Auth.Manager != v1alpha1.AuthFAB {
		add(Change, "auth.webserverConfig (FAB's webserver_config.py: OAuth, LDAP) applies to FAB only: set auth.manager: fab to keep it, or remove it.")
	}
	if strings.Contains(from.Executor, v1alpha1.CeleryKubernetesExecutor) {
		add(Change, "CeleryKubernetesExecutor is gone in Airflow 3: use executor CeleryExecutor,KubernetesExecutor, and route tasks with executor=\"KubernetesExecutor\" (airkube.task_group does) instead of the kubernetes queue.")
	}
	add(Change, "DAG code: Airflow 3 moves operators to providers (airflow.providers.standard), drops execution_date for logical_date and blocks direct database access from tasks; `ruff check --select AIR3 dags/` lists what to change.")
	return notes
}

// configKeys lists the running release's airflow.cfg keys the new version renamed or no longer reads.
func configKeys(from, to *v1alpha1.AirflowRelease) []Note {
	keys, err := airflowcfg.ForVersion(to.Airflow.Version)
	if err != nil {
		return []Note{{Info, fmt.Sprintf("airflow.config not checked: %v", err)}}
	}
	var notes []Note
	var sections []string
	for s := range from.Airflow.Config {
		sections = append(sections, s)
	}
	sort.Strings(sections)
	for _, s := range sections {
		var ks []string
		for k := range from.Airflow.Config[s] {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			key := strings.ToLower(s + "." + k)
			switch verdict, repl := keys.Check(key); verdict {
			case airflowcfg.Removed:
				if repl == "" {
					notes = append(notes, Note{Change, fmt.Sprintf("airflow.config.%s.%s: Airflow %s removed it; drop it", s, k, keys.Line)})
				} else {
					notes = append(notes, Note{Change, fmt.Sprintf("airflow.config.%s.%s: Airflow %s renamed it %s; move the value there", s, k, keys.Line, repl)})
				}
			case airflowcfg.Unknown:
				notes = append(notes, Note{Change, fmt.Sprintf("airflow.config.%s.%s: Airflow %s does not read it (closest key: %s)", s, k, keys.Line, repl)})
			case airflowcfg.Deprecated:
				notes = append(notes, Note{Info, fmt.Sprintf("airflow.config.%s.%s: deprecated in Airflow %s; use %s", s, k, keys.Line, repl)})
			}
		}
	}
	return notes
}
