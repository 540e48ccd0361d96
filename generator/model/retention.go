package model

import (
	"fmt"
)

// LogRetention is the CronJob that keeps a shared log volume from growing forever; its pod has
// only the log volume and no Airflow env (it needs no secret).
type LogRetention struct {
	JobPod
	Schedule string `json:"schedule"`
}

// RetentionSchedule runs the log retention once a day, at a quiet hour.
const RetentionSchedule = "17 3 * * *"

// retentionScript deletes regular files older than $2 minutes under $1, then folders that are empty
// and have not changed for an hour (a task may have just made its folder; folders emptied by this run
// go on the next). find does not follow symlinks (-P) and stays on the log volume (-xdev): a link
// never leads it out of the log root, and links themselves are left alone. It prints what it deletes.
const retentionScript = `set -eu
root="$1"; minutes="$2"
find -P "$root" -xdev -mindepth 1 -type f -mmin "+$minutes" -print -delete
find -P "$root" -xdev -mindepth 1 -depth -type d -empty -mmin +60 -print -delete
`

// logRetention is the CronJob for storage.logs.retentionDays, with the components' identity (uid,
// gid, restricted context) and the log volume at the same path, or nil.
func (r *release) logRetention(p AirflowPods) *LogRetention {
	days := r.Storage.Logs.RetentionDays
	if days == nil {
		return nil
	}
	lr := &LogRetention{Schedule: RetentionSchedule, JobPod: JobPod{
		Name: r.name("log-retention"), Image: r.Airflow.Image,
		// bash, not sh: the official image's entrypoint runs `bash ...` as given and anything else as
		// an airflow subcommand.
		Args:      []string{"bash", "-c", retentionScript, "log-retention", r.Storage.Logs.MountPath, fmt.Sprint(*days * 24 * 60)},
		Resources: resources("50m", "64Mi", "256Mi"),
	}}
	for _, v := range p.Volumes {
		if v.Name == "logs" {
			lr.Volumes = append(lr.Volumes, v)
		}
	}
	for _, m := range p.VolumeMounts {
		if m.Name == "logs" {
			lr.VolumeMounts = append(lr.VolumeMounts, m)
		}
	}
	return lr
}
