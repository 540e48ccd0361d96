package model

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// migration needs only the config volume (the first Airflow volume) of the Airflow pods, and the
// python folder for its preflight. The preflight runs `airflow db migrate` itself once it passes
// (--migrate): one Python process imports Airflow once, where a preflight init container and the
// `airflow` command imported it twice on the install's critical path.
func (r *release) migration(config corev1.Volume) Migration {
	timeout, _ := time.ParseDuration(r.Database.Migration.Timeout) // validated
	args := []string{"python", PreflightScript}
	if r.Database.Migration.AllowXComRewrites {
		args = append(args, "--allow-xcom-rewrites")
	}
	return Migration{
		JobPod: JobPod{
			Name:       r.name("migrate-" + hash8(r.Airflow.Version, r.Airflow.Image)),
			Image:      r.Airflow.Image,
			Args:       append(args, "--migrate"),
			Resources:  resources("250m", "512Mi", "1Gi"),
			AirflowEnv: true,
			Volumes: []corev1.Volume{config, {Name: "python", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: r.name("python")}}}}},
			VolumeMounts: []corev1.VolumeMount{{Name: config.Name, MountPath: ConfigDir, ReadOnly: true}, {Name: "python", MountPath: PythonDir, ReadOnly: true}},
		},
		// A failed migration ends: one retry for a passing blip, then a failed Job whose log says why,
		// instead of restarting until helm gives up.
		ActiveDeadlineSeconds: int64(timeout.Seconds()),
		BackoffLimit:          1,
	}
}
