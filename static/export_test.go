package static

// For the tests of package static_test, which can import the views that
// import this package.
var (
	Rules    = rules
	Contrast = contrast
)
