package v1alpha1

import (
	"regexp"
	"strings"
)

// The executors airkube deploys by name; any other entry is a custom executor's class path.
const (
	LocalExecutor            = "LocalExecutor"
	CeleryExecutor           = "CeleryExecutor"
	KubernetesExecutor       = "KubernetesExecutor"
	CeleryKubernetesExecutor = "CeleryKubernetesExecutor"
)

// customExecutor is Airflow's form for an executor class: an optional alias, then module.Class.
var customExecutor = regexp.MustCompile(`^(?:([A-Za-z_][A-Za-z0-9_]*):)?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)$`)

// Executor is one entry of the executor list.
type Executor struct {
	// Entry is as written: "LocalExecutor", "wx.executors.KubeExecutor", "KubeX:wx.executors.KubeExecutor".
	Entry string
	// Alias and Path are a custom executor's; both empty for a built-in name.
	Alias, Path string
}

// Custom says whether the entry is a class path rather than a name airkube deploys. A custom
// executor runs inside the scheduler, as LocalExecutor does.
func (e Executor) Custom() bool { return e.Path != "" }

// Valid says whether the entry is a built-in name or has the shape of a class path.
func (e Executor) Valid() bool {
	switch e.Entry {
	case LocalExecutor, CeleryExecutor, KubernetesExecutor, CeleryKubernetesExecutor:
		return true
	}
	return e.Custom()
}

// Name is how a task names the executor (executor=): the alias, else the class path, else the name.
func (e Executor) Name() string {
	switch {
	case e.Alias != "":
		return e.Alias
	case e.Path != "":
		return e.Path
	}
	return e.Entry
}

// Is says whether a task group's executor refers to this entry: by name, alias, class path or entry.
func (e Executor) Is(ref string) bool {
	return ref != "" && (ref == e.Entry || ref == e.Alias || ref == e.Path)
}

// Executors splits the executor setting into its entries.
func (r *AirflowRelease) Executors() []Executor {
	var out []Executor
	for _, s := range strings.Split(r.Executor, ",") {
		e := Executor{Entry: strings.TrimSpace(s)}
		if m := customExecutor.FindStringSubmatch(e.Entry); m != nil {
			e.Alias, e.Path = m[1], m[2]
		}
		out = append(out, e)
	}
	return out
}

// GroupExecutor is the entry a task group runs on, and whether there is one.
func (r *AirflowRelease) GroupExecutor(g TaskGroup) (Executor, bool) {
	for _, e := range r.Executors() {
		if e.Is(g.Executor) {
			return e, true
		}
		// CeleryKubernetesExecutor runs a group on its Celery or its Kubernetes side.
		if e.Entry == CeleryKubernetesExecutor && (g.Executor == CeleryExecutor || g.Executor == KubernetesExecutor) {
			return Executor{Entry: g.Executor}, true
		}
	}
	return Executor{}, false
}

// ExecutorSet says which kinds of executor a release runs. CeleryKubernetesExecutor (Airflow 2) runs
// both of its sides; a custom executor runs inside the scheduler, as LocalExecutor does.
type ExecutorSet struct {
	Local, Celery, Kubernetes, CeleryKubernetes, Custom bool
}

// ExecutorSet reads the executor list into the kinds it runs.
func (r *AirflowRelease) ExecutorSet() ExecutorSet {
	var s ExecutorSet
	for _, e := range r.Executors() {
		switch {
		case e.Custom():
			s.Custom = true
		case e.Entry == LocalExecutor:
			s.Local = true
		case e.Entry == CeleryExecutor:
			s.Celery = true
		case e.Entry == KubernetesExecutor:
			s.Kubernetes = true
		case e.Entry == CeleryKubernetesExecutor:
			s.CeleryKubernetes, s.Celery, s.Kubernetes = true, true, true
		}
	}
	return s
}

// RunsInScheduler says whether a task group's tasks run inside the scheduler, with no pods of their
// own: LocalExecutor groups and the groups of a custom executor.
func (r *AirflowRelease) RunsInScheduler(g TaskGroup) bool {
	e, _ := r.GroupExecutor(g)
	return g.Executor == LocalExecutor || e.Custom()
}
