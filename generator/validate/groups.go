package validate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// executors checks the executor list and returns the kinds it runs.
func (c *checker) executors(r *v1alpha1.AirflowRelease, major uint64) v1alpha1.ExecutorSet {
	entries := r.Executors()
	names := map[string]bool{}
	for _, x := range entries {
		e := x.Entry
		switch {
		case e == CeleryKubernetes && major == 3:
			c.errorf("executor", "CeleryKubernetesExecutor was removed in Airflow 3; use the multi-executor form %s,%s", Celery, Kubernetes)
		case e == CeleryKubernetes && len(entries) > 1:
			c.errorf("executor", "CeleryKubernetesExecutor cannot be combined with other executors; use %s,%s instead", Celery, Kubernetes)
		case !x.Valid():
			c.errorf("executor", "%q is not an executor airkube deploys; use %s, %s, %s, a comma list of them, %s (Airflow 2.x), or a custom executor's class path (wx.executors.KubeExecutor, or with an alias KubeX:wx.executors.KubeExecutor)", e, Local, Celery, Kubernetes, CeleryKubernetes)
		case names[x.Name()]:
			c.errorf("executor", "%s is listed twice", x.Name())
		case x.Custom():
			c.warnf("executor", "%s runs inside the scheduler: its class must be importable from airflow.image (%s), e.g. a package installed in the image", x.Path, r.Airflow.Image)
		}
		names[x.Name()] = true
	}
	return r.ExecutorSet()
}

func (c *checker) taskGroups(r *v1alpha1.AirflowRelease, executors v1alpha1.ExecutorSet) {
	seen := map[string]bool{}
	var release []string
	for _, e := range []struct {
		name string
		runs bool
	}{{Local, executors.Local}, {Celery, executors.Celery}, {Kubernetes, executors.Kubernetes}} {
		if e.runs {
			release = append(release, e.name)
		}
	}
	for _, x := range r.Executors() {
		if x.Custom() {
			release = append(release, x.Name())
		}
	}
	locals := 0
	for i, g := range r.TaskGroups {
		path := fmt.Sprintf("taskGroups[%d]", i)
		c.itemName(path, "group", g.Name, 20, seen)
		if g.Image != r.Airflow.Image { // else checked as airflow.image, its default
			c.image(path+".image", g.Image)
		}
		if g.Patch != "" {
			c.errorf(path+".$patch", "is only valid in an overlay")
		}
		x, ok := r.GroupExecutor(g)
		if !ok || !x.Valid() || g.Executor == CeleryKubernetes {
			// With no valid executor at all, the release's executor is the problem
			// (already reported); "not one of ()" would only add noise.
			if len(release) > 0 {
				c.errorf(path+".executor", "%q is not one of the release's executors (%s)", g.Executor, strings.Join(release, ", "))
			}
			continue
		}
		if sa := g.ServiceAccount; sa != nil {
			for k := range sa.Annotations {
				if errs := validation.IsQualifiedName(k); len(errs) > 0 {
					c.errorf(path+".serviceAccount.annotations", "%q is not an annotation key: %s", k, strings.Join(errs, "; "))
				}
			}
			if g.Executor == Local {
				c.errorf(path+".serviceAccount", "LocalExecutor tasks run in the scheduler, under the release's ServiceAccount: give the identity in serviceAccount at the top, or run this group with %s or %s", Celery, Kubernetes)
			}
		}
		kind := g.Executor
		if x.Custom() {
			kind = custom
		}
		switch kind {
		case custom:
			// Like LocalExecutor: its tasks run inside the scheduler.
			if g.Image != r.Airflow.Image {
				c.errorf(path+".image", "%s runs its tasks from inside the scheduler, which uses airflow.image; give this group executor %s or %s for its own image", x.Name(), Celery, Kubernetes)
			}
			c.noWorkers(path, g, x.Name())
			c.inScheduler(path, g, x.Name())
			if g.ServiceAccount != nil {
				c.errorf(path+".serviceAccount", "%s runs in the scheduler, under the release's ServiceAccount: give the identity in serviceAccount at the top", x.Name())
			}
		case Local:
			locals++
			if locals > 1 {
				c.errorf(path, "a release has one LocalExecutor group: its tasks run inside the scheduler")
			}
			if g.Image != r.Airflow.Image {
				c.errorf(path+".image", "LocalExecutor tasks run inside the scheduler, which uses airflow.image; give this group executor %s or %s for its own image", Celery, Kubernetes)
			}
			c.noWorkers(path, g, Local)
			c.inScheduler(path, g, Local)
		case Kubernetes:
			c.noWorkers(path, g, Kubernetes)
		case Celery:
			if g.Replicas != nil && g.Autoscaling != nil {
				c.errorf(path+".replicas", "cannot be set with autoscaling; use autoscaling.minReplicas")
			}
			if g.Replicas != nil && *g.Replicas < 0 {
				c.errorf(path+".replicas", "%d: at least 0", *g.Replicas)
			}
			if *g.Concurrency < 1 {
				c.errorf(path+".concurrency", "%d: at least 1", *g.Concurrency)
			}
			c.autoscaling(path+".autoscaling", g.Autoscaling, r)
		}
	}
}

func (c *checker) noWorkers(path string, g v1alpha1.TaskGroup, executor string) {
	if g.Autoscaling != nil {
		c.errorf(path+".autoscaling", "%s groups have no workers to scale; only %s groups do", executor, Celery)
	}
	if g.Replicas != nil {
		c.errorf(path+".replicas", "%s groups have no workers; only %s groups do", executor, Celery)
	}
}

// inScheduler refuses the pod settings of a group whose tasks run inside the scheduler (LocalExecutor,
// custom executors): it has no pods of its own, so they would be dropped without a word. Its volumes
// and podOperators do apply, to the scheduler.
func (c *checker) inScheduler(path string, g v1alpha1.TaskGroup, executor string) {
	for _, f := range []struct {
		field string
		set   bool
	}{
		{"resources", g.Resources != nil}, {"nodeSelector", len(g.NodeSelector) > 0}, {"tolerations", len(g.Tolerations) > 0},
		{"affinity", g.Affinity != nil}, {"env", len(g.Env) > 0}, {"envFrom", len(g.EnvFrom) > 0},
		{"podAnnotations", len(g.PodAnnotations) > 0}, {"podLabels", len(g.PodLabels) > 0},
		{"priorityClassName", g.PriorityClassName != ""}, {"topologySpreadConstraints", len(g.TopologySpreadConstraints) > 0},
		{"initContainers", len(g.InitContainers) > 0}, {"sidecars", len(g.Sidecars) > 0},
	} {
		if f.set {
			c.errorf(path+"."+f.field, "%s tasks run inside the scheduler: set %s on components.scheduler, or give this group executor %s or %s for pods of its own", executor, f.field, Celery, Kubernetes)
		}
	}
	if g.SecurityContext != nil {
		c.errorf(path+".securityContext", "%s tasks run inside the scheduler, as airflow.image's user: give this group executor %s or %s for a user of its own", executor, Celery, Kubernetes)
	}
}

func (c *checker) autoscaling(path string, a *v1alpha1.Autoscaling, r *v1alpha1.AirflowRelease) {
	if a == nil {
		return
	}
	if a.MaxReplicas < 1 {
		c.errorf(path+".maxReplicas", "required: at least 1")
	}
	// Without maxReplicas (reported above) there is no range to compare with.
	if *a.MinReplicas < 0 || (a.MaxReplicas >= 1 && *a.MinReplicas > a.MaxReplicas) {
		c.errorf(path+".minReplicas", "%d must be between 0 and maxReplicas (%d)", *a.MinReplicas, a.MaxReplicas)
	}
	switch a.Metric {
	case "queue":
		if r.Database.ConnectionSecret != nil {
			c.errorf(path+".metric", "queue scaling reads the database through host, name, user and passwordSecret; give those instead of database.connectionSecret, or use metric: cpu")
		}
	case "cpu":
		if *a.MinReplicas < 1 {
			c.errorf(path+".minReplicas", "metric cpu needs at least 1 worker; only queue scaling can scale to 0")
		}
	default:
		c.errorf(path+".metric", "%q is not a metric; use queue (KEDA, queued and running tasks) or cpu (HorizontalPodAutoscaler)", a.Metric)
	}
}
