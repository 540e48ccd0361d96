//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/airkube/airkube/generator/render"
)

// TestE2ELocalWithHelmCLI installs the LocalExecutor release on 3.3 the way the README
// says, with the plain Helm 3 CLI: airkube writes the chart, `helm upgrade --install
// --wait --wait-for-jobs` installs it in one call, and a second call changes nothing.
func TestE2ELocalWithHelmCLI(t *testing.T) {
	kwokOnly(t)
	helm := os.Getenv("AIRKUBE_HELM")
	if helm == "" {
		t.Fatal("AIRKUBE_HELM is not set (make e2e builds the pinned Helm CLI)")
	}
	const ns, name = "e2e-local", "small"
	namespace(t, ns)
	userObjects(t, ns)
	res := renderWith(t, filepath.Join(repoRoot, "tests", "golden", "local-3.3", "spec.yaml"), nil, "metadata: {namespace: "+ns+"}")
	out := t.TempDir()
	if err := render.Write(res, out); err != nil {
		t.Fatal(err)
	}
	run := func() time.Duration {
		start := time.Now()
		cmd := exec.Command(helm, "upgrade", "--install", name, filepath.Join(out, name), "--namespace", ns,
			"--wait", "--wait-for-jobs", "--timeout", "5m", "--kubeconfig", cluster.kubeconfig)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, b)
		}
		return time.Since(start)
	}
	figure(t, "small (Local, helm CLI) install to ready", run())
	assertReady(t, res)
	before := generations(t, ns, name)
	figure(t, "small (Local, helm CLI) upgrade without change", run())
	if after := generations(t, ns, name); !reflect.DeepEqual(before, after) {
		t.Errorf("a second helm upgrade --install rolled workloads: before %v, after %v", before, after)
	}
	// The chart refuses another release name with the command to use.
	cmd := exec.Command(helm, "upgrade", "--install", "other", filepath.Join(out, name), "--namespace", ns, "--kubeconfig", cluster.kubeconfig)
	if b, err := cmd.CombinedOutput(); err == nil || !regexpMatch(`rendered by airkube for release "small"`, string(b)) {
		t.Errorf("installing under another name: err %v, output %s; want a refusal naming the release", err, b)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
