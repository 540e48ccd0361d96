//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/render"
)

// readmeSection is the README section whose shell block a new user copies to deploy a release.
const readmeSection = "## Deploying the output"

// TestE2EReadmeByHand runs the README's by-hand deployment exactly as written: its shell block,
// with bash -e, kubectl (the cluster's pinned one) and helm on PATH and KUBECONFIG naming the
// cluster under test, in a temp dir holding values/, overlays/ and a freshly built bin/airkube.
// Whatever the steps need, the README must say; the test adds nothing. Then the release must be
// deployed and ready, and the objects the spec names must hold what it reads.
func TestE2EReadmeByHand(t *testing.T) {
	kwokOnly(t)
	helm := os.Getenv("AIRKUBE_HELM")
	if helm == "" {
		t.Fatal("AIRKUBE_HELM is not set (make e2e builds the pinned Helm CLI)")
	}
	block := readmeBlock(t, filepath.Join(repoRoot, "README.md"), readmeSection)

	// The release the block renders, rendered here too for the checks and the cleanup.
	m := regexp.MustCompile(`(?m)^bin/airkube render -f (\S+)((?: --overlay \S+)*)\s*$`).FindStringSubmatch(block)
	if m == nil {
		t.Fatalf("README %q: no `bin/airkube render -f SPEC [--overlay DIR]...` line in:\n%s", readmeSection, block)
	}
	var overlays []string
	for _, o := range strings.Fields(strings.ReplaceAll(m[2], "--overlay", "")) {
		overlays = append(overlays, filepath.Join(repoRoot, o))
	}
	res := renderWith(t, filepath.Join(repoRoot, m[1]), overlays)
	ns, name := res.Release.Metadata.Namespace, res.Release.Metadata.Name
	ctx := context.Background()
	namespaceGone(t, ns)
	if r := res.Release.Broker; r != nil && r.Redis != nil && r.Redis.Persistence != nil && r.Redis.Persistence.ExistingClaim == "" {
		provisioned(t, ns, name+"-redis") // a user's cluster has a default StorageClass; kwok has none
	}

	// The working copy: what the block reads, and the CLI it runs, built from this tree.
	dir := byHandWorkdir(t, "values", "overlays")
	// PATH gets exactly kubectl and helm ahead of the user's own.
	tools := filepath.Join(t.TempDir(), "tools")
	if err := os.Mkdir(tools, 0o755); err != nil {
		t.Fatal(err)
	}
	for tool, path := range map[string]string{"kubectl": filepath.Join(clusterBin(t), "kubectl"), "helm": helm} {
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(tools, tool)); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "KUBECONFIG="+mustAbs(t, cluster.kubeconfig), "PATH="+tools+string(os.PathListSeparator)+os.Getenv("PATH"))

	helmCmd := func(args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(tools, "helm"), args...)
		cmd.Env = env
		return cmd
	}
	t.Cleanup(func() {
		// The README's release leaves what it keeps on uninstall: its namespace (with the
		// generated Secrets) and its NAS PersistentVolumes. Remove all of it for the next run.
		if b, err := helmCmd("uninstall", name, "--namespace", ns, "--wait", "--timeout", "5m").CombinedOutput(); err != nil {
			t.Logf("helm uninstall %s: %v\n%s", name, err, b)
		}
		_ = cluster.client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		pvs, err := cluster.client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + name})
		if err == nil {
			for _, pv := range pvs.Items {
				if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
					_ = cluster.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
				}
			}
		}
		namespaceGone(t, ns)
	})

	sctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(sctx, "bash", "-e", "-o", "pipefail", "-x", "-c", block)
	cmd.Dir, cmd.Env = dir, env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README %q failed: %v\n%s", readmeSection, err, out)
	}
	t.Logf("README %q:\n%s", readmeSection, out)
	figure(t, "README by-hand steps (render, install to ready)", time.Since(start))

	b, err := helmCmd("status", name, "--namespace", ns, "-o", "json").Output()
	if err != nil {
		t.Fatalf("helm status %s: %v", name, err)
	}
	var status struct {
		Info struct{ Status string } `json:"info"`
	}
	if err := json.Unmarshal(b, &status); err != nil {
		t.Fatalf("helm status %s: %v\n%s", name, err, b)
	}
	if status.Info.Status != "deployed" {
		t.Errorf("helm status %s: %q, want deployed", name, status.Info.Status)
	}
	assertReady(t, res)

	// Kubernetes checks these only when a container starts, which kwok never does: the README's
	// steps must have made the objects the spec names, holding what it reads.
	if s := res.Release.Database.PasswordSecret; s != nil {
		sec, err := cluster.client.CoreV1().Secrets(ns).Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil || len(sec.Data[s.Key]) == 0 {
			t.Errorf("database.passwordSecret: Secret %s/%s has no key %s (%v)", ns, s.Name, s.Key, err)
		}
	}
	for what, refs := range map[string][]v1alpha1.SecretKey{"airflow.connections": connSecrets(res), "airflow.variables": varSecrets(res)} {
		for _, s := range refs {
			sec, err := cluster.client.CoreV1().Secrets(ns).Get(ctx, s.Name, metav1.GetOptions{})
			if err != nil || len(sec.Data[s.Key]) == 0 {
				t.Errorf("%s: Secret %s/%s has no key %s (%v)", what, ns, s.Name, s.Key, err)
			}
		}
	}
	for i, u := range res.Release.Auth.Users {
		sec, err := cluster.client.CoreV1().Secrets(ns).Get(ctx, u.PasswordSecret.Name, metav1.GetOptions{})
		if err != nil || len(sec.Data[u.PasswordSecret.Key]) == 0 {
			t.Errorf("auth.users[%d] (%s).passwordSecret: Secret %s/%s has no key %s (%v)", i, u.Username, ns, u.PasswordSecret.Name, u.PasswordSecret.Key, err)
		}
	}
	if ca := res.Release.KubernetesAPI.CABundle; ca != nil {
		key, data := ca.Key, ""
		if key == "" {
			key = "ca.crt"
		}
		if ca.ConfigMap != "" {
			cm, err := cluster.client.CoreV1().ConfigMaps(ns).Get(ctx, ca.ConfigMap, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("kubernetesAPI.caBundle: %v", err)
			}
			data = cm.Data[key]
		} else {
			sec, err := cluster.client.CoreV1().Secrets(ns).Get(ctx, ca.Secret, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("kubernetesAPI.caBundle: %v", err)
			}
			data = string(sec.Data[key])
		}
		if !strings.Contains(data, "-----BEGIN CERTIFICATE-----") {
			t.Errorf("kubernetesAPI.caBundle: key %s holds no PEM certificate: %q", key, data)
		}
	}
}

// byHandWorkdir makes what a user's checkout holds for by-hand steps: a temp dir with copies of the
// repository's folders dirs and bin/airkube built from this tree.
func byHandWorkdir(t *testing.T, dirs ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range dirs {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join(repoRoot, d))); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", "airkube"), "./generator/cmd/airkube")
	build.Dir = repoRoot
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, b)
	}
	return dir
}

// readmeBlock returns the first ```sh block of a README section.
func readmeBlock(t *testing.T, path, heading string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in, code bool
	var lines []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case !in:
			in = line == heading
		case !code && strings.HasPrefix(line, "## "):
			t.Fatalf("%s: section %q has no ```sh block", path, heading)
		case !code:
			code = line == "```sh"
		case line == "```":
			return strings.Join(lines, "\n") + "\n"
		default:
			lines = append(lines, line)
		}
	}
	t.Fatalf("%s: no section %q with a closed ```sh block", path, heading)
	return ""
}

// clusterBin is the folder of the pinned control-plane binaries (kubectl among them), as
// hack/cluster/build.sh prints it; instant once built.
func clusterBin(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "cluster", "build.sh"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// namespaceGone waits until ns no longer exists (a previous run's deletion may still be going).
func namespaceGone(t *testing.T, ns string) {
	t.Helper()
	err := poll(3*time.Minute, func() (bool, error) {
		n, err := cluster.client.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err == nil && n.DeletionTimestamp == nil {
			return false, errors.New("exists and is not being deleted; the README's steps create it (kubectl delete namespace it first)")
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("namespace %s: %v", ns, err)
	}
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func connSecrets(res *render.Result) []v1alpha1.SecretKey {
	var out []v1alpha1.SecretKey
	for _, c := range res.Release.Airflow.Connections {
		out = append(out, c.Secret)
	}
	return out
}

func varSecrets(res *render.Result) []v1alpha1.SecretKey {
	var out []v1alpha1.SecretKey
	for _, v := range res.Release.Airflow.Variables {
		out = append(out, v.Secret)
	}
	return out
}
