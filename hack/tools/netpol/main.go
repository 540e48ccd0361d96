// Command netpol answers, for each flow it is given, whether a set of NetworkPolicies allows it, with
// cyclonus's policy matcher (github.com/mattfenwick/cyclonus/pkg/matcher), a library made to evaluate
// NetworkPolicies the way the Kubernetes API defines them. The e2e suite runs it on rendered releases.
//
// It is a module of its own: cyclonus builds against an older client-go than airkube's.
//
//	netpol < {"policies": [NetworkPolicy...], "flows": [Flow...]}   prints [{"name", "allowed"}...]
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	v1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Peer is one end of a flow: a pod (namespace, its labels and its namespace's labels) and its IP.
type Peer struct {
	Namespace       string            `json:"namespace"`
	NamespaceLabels map[string]string `json:"namespaceLabels"`
	PodLabels       map[string]string `json:"podLabels"`
	IP              string            `json:"ip"`
}

// Flow is a connection to check: from a pod to a pod's port.
type Flow struct {
	Name     string      `json:"name"`
	From     Peer        `json:"from"`
	To       Peer        `json:"to"`
	Port     int         `json:"port"`
	PortName string      `json:"portName"`
	Protocol v1.Protocol `json:"protocol"`
}

type input struct {
	Policies []*networkingv1.NetworkPolicy `json:"policies"`
	Flows    []Flow                        `json:"flows"`
}

type verdict struct {
	Name    string `json:"name"`
	Allowed bool   `json:"allowed"`
	// Ingress and Egress say which direction decided (false means denied there).
	Ingress bool `json:"ingress"`
	Egress  bool `json:"egress"`
}

// peer is a pod, or an address outside the cluster when it has no namespace (a database, an API
// server, an object store), which only ipBlock rules match.
func peer(p Peer) *matcher.TrafficPeer {
	if p.Namespace == "" {
		return &matcher.TrafficPeer{IP: p.IP}
	}
	return &matcher.TrafficPeer{IP: p.IP, Internal: &matcher.InternalPeer{
		PodLabels: p.PodLabels, NamespaceLabels: p.NamespaceLabels, Namespace: p.Namespace}}
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "netpol: reading the input:", err)
		os.Exit(2)
	}
	policy := matcher.BuildNetworkPolicies(true, in.Policies)
	var out []verdict
	for _, f := range in.Flows {
		proto := f.Protocol
		if proto == "" {
			proto = v1.ProtocolTCP
		}
		r := policy.IsTrafficAllowed(&matcher.Traffic{Source: peer(f.From), Destination: peer(f.To),
			ResolvedPort: f.Port, ResolvedPortName: f.PortName, Protocol: proto})
		out = append(out, verdict{Name: f.Name, Allowed: r.IsAllowed(), Ingress: r.Ingress.IsAllowed(), Egress: r.Egress.IsAllowed()})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		os.Exit(1)
	}
}
