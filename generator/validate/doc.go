// Package validate checks a defaulted spec and reports every problem at once, each with
// its field path and what would be valid. It makes no decisions: package model trusts
// a spec that passed.
package validate
