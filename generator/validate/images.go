package validate

import "github.com/distribution/reference"

// image checks an image reference as a container runtime parses it: a lowercase repository, an
// optional registry host and port, a tag or a digest. A reference the runtime refuses would only
// show as ErrImagePull or InvalidImageName once the pods start.
func (c *checker) image(path, ref string) {
	if _, err := reference.ParseNormalizedNamed(ref); err != nil {
		c.errorf(path, "%q is not an image reference (like registry.example.com/team/name:tag or name@sha256:<digest>)", ref)
	}
}
