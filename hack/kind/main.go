// Command kind creates and deletes the kind cluster `make e2e-kind` runs the e2e suite on,
// from Go with sigs.k8s.io/kind/pkg/cluster and the node image kind pins by digest.
//
//	go run . create   # prints the kubeconfig path last
//	go run . delete
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/defaults"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cmd"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kind:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	name := os.Getenv("AIRKUBE_CLUSTER")
	if name == "" {
		name = "airkube-e2e"
	}
	cache := os.Getenv("AIRKUBE_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "airkube")
	}
	kubeconfig := filepath.Join(cache, "kind", name, "kubeconfig.yaml")
	provider := cluster.NewProvider(cluster.ProviderWithLogger(cmd.NewLogger()))
	if len(args) != 1 {
		return fmt.Errorf("usage: kind create|delete")
	}
	switch args[0] {
	case "create":
		if err := os.MkdirAll(filepath.Dir(kubeconfig), 0o755); err != nil {
			return err
		}
		// Two workers beside the control plane: the suite labels and taints them like
		// the kwok nodes, so task groups' nodeSelectors and tolerations are exercised.
		config := []byte("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n")
		err := provider.Create(name, cluster.CreateWithNodeImage(defaults.Image), cluster.CreateWithRawConfig(config),
			cluster.CreateWithKubeconfigPath(kubeconfig), cluster.CreateWithWaitForReady(5*time.Minute))
		if err != nil {
			return err
		}
		fmt.Println(kubeconfig)
	case "delete":
		return provider.Delete(name, kubeconfig)
	default:
		return fmt.Errorf("unknown command %q: use create or delete", args[0])
	}
	return nil
}
