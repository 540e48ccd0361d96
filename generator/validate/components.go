package validate

import (
	"reflect"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

func (c *checker) components(r *v1alpha1.AirflowRelease, major uint64) {
	for _, comp := range r.Components.Fields() {
		name, path := comp.Field, "components."+comp.Field
		if comp.Replicas != nil && *comp.Replicas < 1 {
			c.errorf(path+".replicas", "%d: at least 1", *comp.Replicas)
		}
		if comp.Enabled != nil && !*comp.Enabled && (name == "apiServer" || name == "scheduler" || (name == "dagProcessor" && major == 3)) {
			c.errorf(path+".enabled", "%s cannot be turned off in Airflow %d", name, major)
		}
		off := (name == "triggerer" && comp.Enabled != nil && !*comp.Enabled) ||
			(name == "dagProcessor" && major == 2 && (comp.Enabled == nil || !*comp.Enabled))
		if rest := *comp.Component; off {
			rest.Enabled = nil
			if !reflect.DeepEqual(rest, v1alpha1.Component{}) {
				c.warnf(path, "%s does not run (enabled: true turns it on), so its other settings have no effect", name)
			}
		}
	}
}
