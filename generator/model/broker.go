package model

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func (r *release) redis() Workload {
	red := r.Broker.Redis
	uid := int64(999)
	w := Workload{
		Name: r.name("redis"), Component: "redis", Image: red.Image, Replicas: ptr(int32(1)),
		Args:           []string{"sh", "-c", `exec redis-server --requirepass "$REDIS_PASSWORD" --save "" --appendonly no`},
		Env:            []corev1.EnvVar{secretEnv("REDIS_PASSWORD", r.name("redis"), "password")},
		Resources:      resources("100m", "128Mi", "512Mi"),
		Ports:          []corev1.ContainerPort{{Name: "redis", ContainerPort: RedisPort}},
		LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("redis")}}, PeriodSeconds: 15},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("redis")}}, PeriodSeconds: 5},
		ServiceAccount: r.name("airflow"),
		Service:        &Service{Name: r.name("redis"), Ports: []corev1.ServicePort{{Name: "redis", Port: RedisPort, TargetPort: intstr.FromString("redis")}}},
		PodSecurityContext: &corev1.PodSecurityContext{RunAsUser: &uid, RunAsGroup: &uid, FSGroup: &uid, RunAsNonRoot: ptr(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
	}
	if red.Resources != nil {
		w.Resources = *red.Resources
	}
	sc := restrictedContainer()
	w.SecurityContext = &sc
	if p := red.Persistence; p != nil {
		// The append-only file, written every second: a restarted Redis still holds the queue.
		w.Args = []string{"sh", "-c", `exec redis-server --requirepass "$REDIS_PASSWORD" --dir /data --save "" --appendonly yes --appendfsync everysec`}
		w.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: r.redisClaim()}}}}
		w.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		w.Recreate = true
	}
	return w
}

// redisClaim is the claim of the Redis queue's append-only file.
func (r *release) redisClaim() string {
	if p := r.Broker.Redis.Persistence; p.ExistingClaim != "" {
		return p.ExistingClaim
	}
	return r.name("redis")
}

// claims are the claims the chart makes: the Redis queue's, unless it names an existing one.
func (r *release) claims() []Claim {
	if r.Broker == nil || r.Broker.Redis == nil || r.Broker.Redis.Persistence == nil || r.Broker.Redis.Persistence.ExistingClaim != "" {
		return nil
	}
	p := r.Broker.Redis.Persistence
	return []Claim{{Name: r.redisClaim(), Component: "redis", Size: p.Size, StorageClassName: p.StorageClassName}}
}
