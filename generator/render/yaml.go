package render

import (
	"bytes"
	"encoding/json"
	"strconv"

	yamlv2 "go.yaml.in/yaml/v2"
)

// yamlFromJSON is sigs.k8s.io/yaml's JSONToYAML, byte for byte (TestYAMLFromJSON), without its YAML
// parse of the JSON: that parse was a sixth of a render. The JSON is decoded as yaml.v2 would read
// it (numbers as int when whole, else float64) and written by the same yaml.v2 encoder.
func yamlFromJSON(j []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return yamlv2.Marshal(yamlNumbers(v))
}

// yamlNumbers replaces each json.Number in v with the int or float64 yaml.v2 resolves it to.
func yamlNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return int(i)
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return f
		}
		return string(v)
	case map[string]any:
		for k, e := range v {
			v[k] = yamlNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = yamlNumbers(e)
		}
	}
	return v
}
