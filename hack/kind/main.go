// Command kind creates and deletes the kind cluster the e2e suite runs real pods on, with the node image
// hack/kind/node-image.sh builds from Debian packages and Go modules (or a published kindest/node image).
//
//	go run . create --image REF   # prints the kubeconfig path last
//	go run . load IMAGE...        # docker images into every node (as kind load docker-image)
//	go run . delete
//
// A node image of ours (airkube.local/...) has no kindnetd (its module is not served) and its own images
// for kubeadm; create then configures the CNI bridge plugin on each node from its podCIDR and routes the
// other nodes' pod subnets, which is what kindnetd does on a kind cluster.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/defaults"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	"sigs.k8s.io/kind/pkg/cmd"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kind:", err)
		os.Exit(1)
	}
}

// ourImages is the registry name node-image.sh gives its images.
const ourImages = "airkube.local"

// legacyLabel is the worker's label, as kind's config writes it: the weather release's Fortran group
// runs there (taskGroups[].nodeSelector), and the e2e suite checks it is set.
const legacyLabel = "pool: legacy"

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
	nas := filepath.Join(cache, "kind", name, "nas")
	provider := cluster.NewProvider(cluster.ProviderWithLogger(cmd.NewLogger()))
	if len(args) < 1 {
		return fmt.Errorf("usage: kind create [--image REF] | load IMAGE... | delete")
	}
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("create", flag.ContinueOnError)
		image := fs.String("image", defaults.Image, "node image")
		etcd := fs.String("etcd-tag", "", "etcd image tag in the node image (ours)")
		dns := fs.String("coredns-tag", "", "CoreDNS image tag in the node image (ours)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return create(provider, name, kubeconfig, nas, *image, *etcd, *dns)
	case "load":
		return load(provider, name, args[1:])
	case "delete":
		if err := provider.Delete(name, kubeconfig); err != nil {
			return err
		}
		// The network kind made for its nodes goes too, once no other kind cluster uses it.
		_ = exec.Command("docker", "network", "rm", "kind").Run()
		return os.RemoveAll(filepath.Dir(kubeconfig))
	default:
		return fmt.Errorf("unknown command %q: use create, load or delete", args[0])
	}
}

func create(provider *cluster.Provider, name, kubeconfig, nas, image, etcdTag, dnsTag string) error {
	if err := os.MkdirAll(filepath.Dir(kubeconfig), 0o755); err != nil {
		return err
	}
	if err := makeNAS(nas); err != nil {
		return err
	}
	ours := strings.HasPrefix(image, ourImages+"/")
	// A control plane that also runs workloads, and one worker labelled pool=legacy: the pool the weather
	// release's Fortran group selects (values/weather-etl.yaml), so that the README's release runs on the
	// cluster as made, by hand as in the suite. Two nodes keep a 2-core machine responsive.
	// Both mount the NAS stand-in at /nas (see makeNAS).
	mount := "  extraMounts: [{hostPath: " + nas + ", containerPath: /nas}]\n"
	config := "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n" + mount +
		"- role: worker\n  labels: {" + legacyLabel + "}\n" + mount +
		// kubelet ≥ 1.35 refuses cgroup v1 hosts unless told otherwise.
		"kubeadmConfigPatches:\n- |\n  kind: KubeletConfiguration\n  failCgroupV1: false\n"
	if ours {
		config += "- |\n  kind: ClusterConfiguration\n  imageRepository: " + ourImages + "\n" +
			"  etcd: {local: {imageTag: " + etcdTag + "}}\n  dns: {imageTag: " + dnsTag + "}\n" +
			"networking:\n  disableDefaultCNI: true\n  kubeProxyMode: nftables\n"
	}
	start := time.Now()
	wait := cluster.CreateWithWaitForReady(5 * time.Minute)
	if ours {
		wait = cluster.CreateWithWaitForReady(0) // nodes are Ready only once their CNI config exists
	}
	if err := provider.Create(name, cluster.CreateWithNodeImage(image), cluster.CreateWithRawConfig([]byte(config)),
		cluster.CreateWithKubeconfigPath(kubeconfig), wait); err != nil {
		return err
	}
	if ours {
		all, err := provider.ListNodes(name)
		if err != nil {
			return err
		}
		if err := bridgeNetwork(all); err != nil {
			return fmt.Errorf("pod network: %w", err)
		}
	}
	cp, err := controlPlane(provider, name)
	if err != nil {
		return err
	}
	if err := kubectl(cp, nil, "wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s"); err != nil {
		return err
	}
	// Workloads may run on the control plane (kind taints it as soon as there are workers).
	_ = kubectl(cp, nil, "taint", "nodes", "--all", "node-role.kubernetes.io/control-plane:NoSchedule-")
	if err := kubectl(cp, nil, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=300s"); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "FIGURE kind cluster create: %.1f s\n", time.Since(start).Seconds())
	fmt.Println(kubeconfig)
	return nil
}

// makeNAS makes the NAS stand-in, empty: one host folder every node mounts, so a hostPath volume on it
// is shared by all nodes like an NFS export (this machine's kernel has no NFS). Its folders belong to
// Airflow's uid 50000 and group 0, group-writable, as the README asks of a NAS export.
func makeNAS(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	// dags and logs, and the weather release's data volumes (overlays/kind/environment.yaml).
	for _, sub := range []string{"dags", "logs", "grib", "model-output", "xcom"} {
		d := filepath.Join(dir, sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(d, 0o2775); err != nil {
			return err
		}
		if err := os.Chown(d, 50000, 0); err != nil {
			return fmt.Errorf("the NAS stand-in's folders must belong to uid 50000 (run as root): %w", err)
		}
	}
	// The disks of the database stand-in and of Redis' queue (overlays/kind/environment.yaml): each
	// for its server's uid (999 in both images) and only it.
	for _, sub := range []string{"postgres", "redis"} {
		d := filepath.Join(dir, sub)
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
		if err := os.Chown(d, 999, 999); err != nil {
			return err
		}
	}
	return nil
}

func controlPlane(provider *cluster.Provider, name string) (nodes.Node, error) {
	all, err := provider.ListNodes(name)
	if err != nil {
		return nil, err
	}
	cps, err := nodeutils.ControlPlaneNodes(all)
	if err != nil || len(cps) == 0 {
		return nil, fmt.Errorf("no control-plane node in cluster %s: %v", name, err)
	}
	return cps[0], nil
}

// kubectl runs kubectl with the admin kubeconfig inside the control-plane node.
func kubectl(cp nodes.Node, out *bytes.Buffer, args ...string) error {
	c := cp.Command("kubectl", append([]string{"--kubeconfig=/etc/kubernetes/admin.conf"}, args...)...)
	var stderr bytes.Buffer
	c.SetStderr(&stderr)
	if out != nil {
		c.SetStdout(out)
	}
	if err := c.Run(); err != nil {
		return fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

// bridgeNetwork writes each node's CNI config for its podCIDR and routes every other node's pod subnet
// through that node's address.
func bridgeNetwork(all []nodes.Node) error {
	cps, err := nodeutils.ControlPlaneNodes(all)
	if err != nil || len(cps) == 0 {
		return fmt.Errorf("no control-plane node: %v", err)
	}
	type nodeNet struct{ cidr, ip string }
	nets := map[string]nodeNet{}
	for _, n := range all {
		var out bytes.Buffer
		// The controller-manager allocates podCIDRs shortly after a node registers.
		for i := 0; ; i++ {
			out.Reset()
			err := kubectl(cps[0], &out, "get", "node", n.String(), "-o",
				`jsonpath={.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}`)
			if f := strings.Fields(out.String()); err == nil && len(f) == 2 {
				nets[n.String()] = nodeNet{cidr: f[0], ip: f[1]}
				break
			}
			if i == 120 {
				return fmt.Errorf("node %s got no podCIDR and address: %v %q", n, err, out.String())
			}
			time.Sleep(time.Second)
		}
	}
	for _, n := range all {
		own := nets[n.String()]
		conf, _ := json.MarshalIndent(map[string]any{
			"cniVersion": "1.0.0", "name": "airkube",
			"plugins": []any{
				map[string]any{"type": "bridge", "bridge": "cni0", "isGateway": true, "hairpinMode": true,
					// No masquerade: every node routes every pod subnet, so pods see each other's addresses.
					"ipMasq": false,
					"ipam": map[string]any{"type": "host-local", "ranges": [][]map[string]string{{{"subnet": own.cidr}}},
						"routes": []map[string]string{{"dst": "0.0.0.0/0"}}}},
				map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
			},
		}, "", "  ")
		c := n.Command("sh", "-c", "cat >/etc/cni/net.d/10-airkube-bridge.conflist")
		c.SetStdin(bytes.NewReader(conf))
		if err := c.Run(); err != nil {
			return fmt.Errorf("writing CNI config on %s: %w", n, err)
		}
		for other, nn := range nets {
			if other == n.String() {
				continue
			}
			if err := n.Command("ip", "route", "replace", nn.cidr, "via", nn.ip).Run(); err != nil {
				return fmt.Errorf("route %s via %s on %s: %w", nn.cidr, nn.ip, n, err)
			}
		}
	}
	return nil
}

// load saves the images from the Docker engine once and imports the archive into every node's
// containerd, as `kind load docker-image` does.
func load(provider *cluster.Provider, name string, images []string) error {
	start := time.Now()
	archive, err := os.CreateTemp("", "airkube-images-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(archive.Name())
	save := exec.Command("docker", append([]string{"save", "-o", archive.Name()}, images...)...)
	save.Stderr = os.Stderr
	if err := save.Run(); err != nil {
		return fmt.Errorf("docker save %s: %w", strings.Join(images, " "), err)
	}
	all, err := provider.ListNodes(name)
	if err != nil {
		return err
	}
	// Every node imports at once: the import is mostly the node's own unpacking work.
	errs := make(chan error, len(all))
	for _, n := range all {
		go func() {
			f, err := os.Open(archive.Name())
			if err != nil {
				errs <- err
				return
			}
			defer f.Close()
			if err := nodeutils.LoadImageArchive(n, f); err != nil {
				errs <- fmt.Errorf("loading images into %s: %w", n, err)
				return
			}
			errs <- nil
		}()
	}
	for range all {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "FIGURE kind load of %d images into %d nodes: %.1f s\n", len(images), len(all), time.Since(start).Seconds())
	return nil
}
