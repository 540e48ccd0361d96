package render

import "testing"

// BenchmarkRenderWeather renders the example weather release (three task groups).
func BenchmarkRenderWeather(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Files("../../values/weather-etl.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}
