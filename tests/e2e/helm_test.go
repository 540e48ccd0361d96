//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/airkube/airkube/generator/render"
)

// helmTimeout bounds one install or upgrade with --wait --wait-for-jobs.
const helmTimeout = 5 * time.Minute

func helmConfig(t *testing.T, ns string) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &cluster.kubeconfig, &ns
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, ns, "secret", func(format string, v ...interface{}) {}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// upgradeInstall is `helm upgrade --install --wait --wait-for-jobs` with Helm's SDK, in
// one call; it returns how long the release took to become ready.
func upgradeInstall(t *testing.T, res *render.Result) (*release.Release, time.Duration) {
	t.Helper()
	name, ns := res.Release.Metadata.Name, res.Release.Metadata.Namespace
	ch, err := render.Load(res.Chart)
	if err != nil {
		t.Fatal(err)
	}
	cfg := helmConfig(t, ns)
	start := time.Now()
	hist := action.NewHistory(cfg)
	hist.Max = 1
	var rel *release.Release
	if _, err := hist.Run(name); errors.Is(err, driver.ErrReleaseNotFound) {
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace, in.Wait, in.WaitForJobs, in.Timeout = name, ns, true, true, helmTimeout
		rel, err = in.Run(ch, nil)
		if err != nil {
			t.Fatalf("helm install %s: %v", name, err)
		}
	} else {
		up := action.NewUpgrade(cfg)
		up.Namespace, up.Wait, up.WaitForJobs, up.Timeout = ns, true, true, helmTimeout
		rel, err = up.Run(name, ch, nil)
		if err != nil {
			t.Fatalf("helm upgrade %s: %v", name, err)
		}
	}
	if rel.Info.Status != release.StatusDeployed {
		t.Fatalf("release %s is %s, want deployed", name, rel.Info.Status)
	}
	return rel, time.Since(start)
}

func uninstall(t *testing.T, name, ns string) {
	t.Helper()
	un := action.NewUninstall(helmConfig(t, ns))
	un.Wait, un.Timeout = true, helmTimeout
	if _, err := un.Run(name); err != nil {
		t.Fatalf("helm uninstall %s: %v", name, err)
	}
}

// figure prints a measured time; figures are printed, never asserted.
func figure(t *testing.T, what string, d time.Duration) {
	t.Helper()
	fmt.Printf("FIGURE %s: %.1f s\n", what, d.Seconds())
}
