package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestComponentDataMounts: each component mounts the data volumes it lists and no others; the
// scheduler also those of the groups whose tasks run inside it, each volume once however many list it.
func TestComponentDataMounts(t *testing.T) {
	v := build(t, "3.3.2", "LocalExecutor,KubeX:wx.executors.KubeExecutor", `storage:
  volumes:
    - {name: grib, existingClaim: grib-archive, mountPath: /data/grib, readOnly: true}
    - {name: stations, existingClaim: stations, mountPath: /data/stations}
components:
  scheduler: {volumes: [grib]}
  dagProcessor: {volumes: [stations]}
taskGroups:
  - {name: default, volumes: [grib]}
  - {name: fortran, executor: KubeX, volumes: [stations, grib]}
`)
	want := map[string][]string{
		"obs-api-server":    nil,
		"obs-scheduler":     {"data-grib:/data/grib", "data-stations:/data/stations"},
		"obs-dag-processor": {"data-stations:/data/stations"},
		"obs-triggerer":     nil,
	}
	got := map[string][]string{}
	for _, w := range v.Workloads {
		var volumes, mounts []string
		for _, vol := range w.Volumes {
			if strings.HasPrefix(vol.Name, "data-") {
				volumes = append(volumes, vol.Name)
			}
		}
		for _, m := range w.VolumeMounts {
			if strings.HasPrefix(m.Name, "data-") {
				mounts = append(mounts, m.Name+":"+m.MountPath)
			}
		}
		if len(volumes) != len(mounts) {
			t.Errorf("%s: volumes %v but mounts %v", w.Name, volumes, mounts)
		}
		got[w.Name] = mounts
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data volume mounts (-want +got):\n%s", diff)
	}
}
