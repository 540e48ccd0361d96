package model

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// TmpDir is where every container of the release may write besides its volumes: each container's root
// filesystem is read-only, and each pod has an emptyDir here. Airflow writes its temporary files, the
// dag bundles' clones (dag_bundle_storage_path's default) and what airkube points here: the 2.x
// webserver's pid file and default FAB config, and the 3.x SimpleAuthManager's passwords file of a
// release without users. git-sync's HOME is here too.
const TmpDir = "/tmp"

// tmpVolume is the pods' writable TmpDir.
func tmpVolume() corev1.Volume {
	return corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

func tmpMount() corev1.VolumeMount { return corev1.VolumeMount{Name: "tmp", MountPath: TmpDir} }

// readOnlyRoot gives every pod of the Airflow image a TmpDir emptyDir, mounted in each of its
// containers, the spec's init containers and sidecars too (theirs at TmpDir stays theirs). The
// containers' read-only root comes with the restricted context (restrictedContainer); the exporter's
// and Redis' pods need no TmpDir. Jobs without the log volume get an emptyDir at the log folder (logs).
func readOnlyRoot(v *Values, logs string) {
	v.Airflow.Volumes = append(v.Airflow.Volumes, tmpVolume())
	v.Airflow.VolumeMounts = append(v.Airflow.VolumeMounts, tmpMount())
	v.Airflow.InitContainers = withTmp(v.Airflow.InitContainers)
	v.Airflow.Sidecars = withTmp(v.Airflow.Sidecars)
	for i := range v.Workloads {
		w := &v.Workloads[i]
		w.InitContainers, w.Sidecars = withTmp(w.InitContainers), withTmp(w.Sidecars)
	}
	for i := range v.TaskPods {
		t := &v.TaskPods[i]
		t.InitContainers, t.Sidecars = withTmp(t.InitContainers), withTmp(t.Sidecars)
	}
	jobs := []*JobPod{&v.Migration.JobPod}
	if v.UsersJob != nil {
		jobs = append(jobs, &v.UsersJob.JobPod)
	}
	if v.LogRetention != nil {
		jobs = append(jobs, &v.LogRetention.JobPod)
	}
	for _, j := range jobs {
		j.Volumes = append(j.Volumes, tmpVolume())
		j.VolumeMounts = append(j.VolumeMounts, tmpMount())
		if !slices.ContainsFunc(j.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == logs }) {
			// Airflow 2 sets up its file log handlers at import, creating their folders under the log
			// folder: a Job without the log volume gets an empty one there.
			j.Volumes = append(j.Volumes, corev1.Volume{Name: "job-logs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
			j.VolumeMounts = append(j.VolumeMounts, corev1.VolumeMount{Name: "job-logs", MountPath: logs})
		}
	}
}

// withTmp returns copies of cs, each mounting TmpDir unless it mounts something there itself.
func withTmp(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return cs
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == TmpDir }) {
			c.VolumeMounts = append(append([]corev1.VolumeMount{}, c.VolumeMounts...), tmpMount())
		}
		out[i] = c
	}
	return out
}
