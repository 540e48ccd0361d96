package validate

import (
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

func (c *checker) broker(r *v1alpha1.AirflowRelease, executors v1alpha1.ExecutorSet) {
	b := r.Broker
	switch {
	case executors.Celery && b == nil:
		c.errorf("broker", "required with CeleryExecutor: redis: {} for a bundled Redis, or urlSecret: {name, key}")
	case !executors.Celery && b != nil:
		c.errorf("broker", "only used by CeleryExecutor, which this release does not run; remove it")
	case b != nil && (b.Redis == nil) == (b.URLSecret == nil):
		c.errorf("broker", "give exactly one of redis or urlSecret")
	case b != nil && b.URLSecret != nil:
		c.secretKey("broker.urlSecret", b.URLSecret)
	case b != nil && b.Redis.Image != "":
		c.image("broker.redis.image", b.Redis.Image)
	}
	if b != nil && b.Redis != nil && b.Redis.Persistence != nil {
		p := b.Redis.Persistence
		switch {
		case p.ExistingClaim != "" && (p.Size != "" || p.StorageClassName != nil):
			c.errorf("broker.redis.persistence", "give existingClaim, or size and storageClassName for a claim the chart makes, not both")
		case p.ExistingClaim == "":
			if q, err := resource.ParseQuantity(p.Size); err != nil || q.Sign() <= 0 {
				c.errorf("broker.redis.persistence.size", "%q is not a size like 1Gi", p.Size)
			}
		}
	}
	if b != nil && b.VisibilityTimeout != "" {
		if d, err := time.ParseDuration(b.VisibilityTimeout); err != nil || d < time.Minute || d%time.Second != 0 {
			c.errorf("broker.visibilityTimeout", "%q is not a duration of whole seconds, at least a minute, like 24h or 90m", b.VisibilityTimeout)
		}
	}
}
