// Package load reads a spec and its overlays strictly: every unknown field and every
// value of the wrong kind is reported with its file, line and field path. Overlays are
// merged on the YAML trees before decoding (maps deep, lists of named items by name,
// `$patch: delete` removes an item), so every value keeps the place it was written and
// later problems (package validate) can point there too.
package load
