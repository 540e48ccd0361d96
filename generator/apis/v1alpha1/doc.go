// Package v1alpha1 holds the public, versioned airkube spec: the AirflowRelease a
// platform engineer writes, its defaults and its known names. It is decoded
// strictly (see package load); every decision drawn from it is made in package model.
package v1alpha1
