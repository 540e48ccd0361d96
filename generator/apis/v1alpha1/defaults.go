package v1alpha1

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Defaults that users see in the spec reference.
const (
	DefaultAirflowVersion = "3.3.2"
	DefaultAirflowImage   = "apache/airflow"
	DefaultDAGsMountPath  = "/opt/airflow/dags"
	DefaultLogsMountPath  = "/opt/airflow/logs"
	DefaultVolumeSize     = "10Gi"
	DefaultRedisImage     = "redis:7.4-bookworm"
	// DefaultRedisVolumeSize holds the queue's append-only file: messages of a few KiB each.
	DefaultRedisVolumeSize = "1Gi"
	// DefaultVisibilityTimeout outlasts a day-long task; Airflow's own default, 6h, does not outlast
	// the seed's long Fortran runs.
	DefaultVisibilityTimeout = "24h"
	DefaultGitSyncImage      = "registry.k8s.io/git-sync/git-sync:v4.4.2"
	DefaultCAKey             = "ca.crt"
	DefaultUID               = int64(50000)
	// DefaultMigrationTimeout outlasts helm's 5 minutes: big 3.x migrations take longer (apache/airflow
	// #63866), and a bounded Job still ends with its reason instead of restarting until helm gives up.
	DefaultMigrationTimeout = "1h"
	DefaultGID              = int64(0)
)

// DefaultStatsDImage is the exporter the real-Airflow tests build from source: its tag is
// STATSD_EXPORTER_VERSION in hack/tools/versions.env.
const DefaultStatsDImage = "quay.io/prometheus/statsd-exporter:v0.31.0"

// SetDefaults fills every field a user may leave out. It runs after overlays are merged
// and before validation, so validation sees the release as it will be rendered.
func SetDefaults(r *AirflowRelease) {
	a := &r.Airflow
	if a.Version == "" {
		a.Version = DefaultAirflowVersion
	}
	if a.Image == "" {
		a.Image = DefaultAirflowImage + ":" + a.Version
	}
	if a.ImagePullPolicy == "" {
		a.ImagePullPolicy = "IfNotPresent"
	}
	if a.UID == nil {
		a.UID = ptr(DefaultUID)
	}
	if a.GID == nil {
		a.GID = ptr(DefaultGID)
	}
	if r.Executor == "" {
		r.Executor = "LocalExecutor"
	}
	if r.Auth.Manager == "" {
		// Airflow 2 has FAB only; Airflow 3 ships SimpleAuthManager, and FAB comes with its provider.
		r.Auth.Manager = AuthSimple
		if strings.HasPrefix(a.Version, "2.") {
			r.Auth.Manager = AuthFAB
		}
	}
	d := &r.Database
	if d.Migration.Timeout == "" {
		d.Migration.Timeout = DefaultMigrationTimeout
	}
	if d.Port == 0 {
		switch d.Type {
		case "postgres":
			d.Port = 5432
		case "mysql":
			d.Port = 3306
		}
	}
	if r.Broker != nil && r.Broker.Redis != nil && r.Broker.Redis.Image == "" {
		r.Broker.Redis.Image = DefaultRedisImage
	}
	if r.Broker != nil && r.Broker.Redis != nil && r.Broker.Redis.Persistence != nil {
		if p := r.Broker.Redis.Persistence; p.ExistingClaim == "" && p.Size == "" {
			p.Size = DefaultRedisVolumeSize
		}
	}
	if r.Broker != nil && r.Broker.VisibilityTimeout == "" {
		r.Broker.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if m := r.Metrics; m != nil && m.StatsD != nil && m.StatsD.Image == "" {
		m.StatsD.Image = DefaultStatsDImage
	}
	s := &r.Storage
	if s.DAGs.MountPath == "" {
		s.DAGs.MountPath = DefaultDAGsMountPath
	}
	if s.DAGs.Size == "" {
		s.DAGs.Size = DefaultVolumeSize
	}
	if g := s.DAGs.GitSync; g != nil {
		if g.Ref == "" {
			g.Ref = "HEAD"
		}
		if g.Period == "" {
			g.Period = "60s"
		}
		if g.Image == "" {
			g.Image = DefaultGitSyncImage
		}
	}
	if g := s.DAGs.Git; g != nil {
		if g.Ref == "" {
			g.Ref = "main"
		}
		if g.Name == "" {
			g.Name = "dags"
		}
	}
	if s.Logs.MountPath == "" {
		s.Logs.MountPath = DefaultLogsMountPath
	}
	if s.Logs.Size == "" {
		s.Logs.Size = DefaultVolumeSize
	}
	if x := r.XCom.ObjectStorage; x != nil && x.Threshold == nil {
		x.Threshold = ptr(int64(1 << 20))
	}
	for i := range s.Volumes {
		if s.Volumes[i].Size == "" {
			s.Volumes[i].Size = DefaultVolumeSize
		}
	}
	if ca := r.KubernetesAPI.CABundle; ca != nil && ca.Key == "" {
		ca.Key = DefaultCAKey
	}
	if len(r.TaskGroups) == 0 {
		r.TaskGroups = []TaskGroup{{Name: "default"}}
	}
	first := r.Executors()[0]
	for i := range r.TaskGroups {
		g := &r.TaskGroups[i]
		if g.Executor == "" {
			g.Executor = first.Name()
			if first.Entry == CeleryKubernetesExecutor {
				g.Executor = CeleryExecutor
			}
		}
		if g.Image == "" {
			g.Image = a.Image
		}
		if g.Concurrency == nil {
			g.Concurrency = ptr(FittingConcurrency(g.Resources))
		}
		if g.TerminationGracePeriodSeconds == nil {
			g.TerminationGracePeriodSeconds = ptr(int64(600))
		}
		if as := g.Autoscaling; as != nil {
			if as.MinReplicas == nil {
				as.MinReplicas = ptr(int32(1))
			}
			if as.Metric == "" {
				as.Metric = "queue"
			}
			if as.Metric == "cpu" && as.TargetCPUUtilizationPercentage == nil {
				as.TargetCPUUtilizationPercentage = ptr(int32(80))
			}
		} else if g.Replicas == nil && g.Executor == "CeleryExecutor" {
			g.Replicas = ptr(int32(1))
		}
		imageDefault(g.Image, g.InitContainers, g.Sidecars)
	}
	for _, c := range r.Components.Fields() {
		imageDefault(a.Image, c.InitContainers, c.Sidecars)
	}
}

// imageDefault gives init containers and sidecars without an image their pod's own: most steps beside
// a task (warming a cache, shipping a file) need the tools of the image it runs in, and an overlay that
// swaps the image then swaps theirs too.
func imageDefault(image string, lists ...[]corev1.Container) {
	for _, l := range lists {
		for i := range l {
			if l[i].Image == "" {
				l[i].Image = image
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }

// DefaultWorkerMemoryLimit is a Celery worker's memory limit when its group sets no resources.
const DefaultWorkerMemoryLimit = "2Gi"

// A Celery worker's memory: its own processes (the Celery main process, the log server and the CLI
// that started them: about 470 MiB measured on kind), and per task slot a supervisor and its task
// (about 200 MiB each for a trivial task on 3.3). With Airflow's default of 16 slots, a 1 GiB worker
// was OOM-killed on kind under 3 DAG runs of 20 trivial tasks.
const (
	workerBaseMemory = 512 << 20
	taskSlotMemory   = 256 << 20
)

// FittingConcurrency is the most Celery task slots a worker with these resources holds in memory
// (its memory limit, or DefaultWorkerMemoryLimit without resources), between 1 and Airflow's 16. A
// worker without a memory limit gets 16.
func FittingConcurrency(r *corev1.ResourceRequirements) int32 {
	limit := resource.MustParse(DefaultWorkerMemoryLimit)
	if r != nil {
		l, ok := r.Limits[corev1.ResourceMemory]
		if !ok {
			return 16
		}
		limit = l
	}
	return int32(min(max((limit.Value()-workerBaseMemory)/taskSlotMemory, 1), 16))
}
