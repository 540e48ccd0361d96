// Package e2e proves rendered releases against a real Kubernetes control plane: server-side
// validation of every golden case, installs with Helm's SDK (--wait --wait-for-jobs),
// least privilege, upgrades, uninstall and reinstall. Run it with `make e2e`, which
// starts a local kwok cluster and passes its kubeconfig in AIRKUBE_KUBECONFIG.
package e2e
