package providers

import "fmt"

// Mode says whether a provider is the real one or the built-in sandbox.
type Mode string

// Modes.
const (
	ModeLive    Mode = "live"
	ModeSandbox Mode = "sandbox"
)

// Registry is the set of configured providers.
type Registry struct {
	rails map[Name]Rail
	modes map[Name]Mode
	order []Name
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{rails: make(map[Name]Rail), modes: make(map[Name]Mode)}
}

// Add registers a rail in the given mode; adding a name twice panics, since
// it can only be a wiring mistake.
func (r *Registry) Add(rail Rail, mode Mode) {
	n := rail.Name()
	if _, dup := r.rails[n]; dup {
		panic(fmt.Sprintf("providers: %s registered twice", n))
	}
	r.rails[n], r.modes[n] = rail, mode
	r.order = append(r.order, n)
}

// Get returns the rail of a provider.
func (r *Registry) Get(n Name) (Rail, bool) {
	rail, ok := r.rails[n]
	return rail, ok
}

// Mode returns how a provider runs.
func (r *Registry) Mode(n Name) Mode { return r.modes[n] }

// Names lists the registered providers in registration order.
func (r *Registry) Names() []Name { return append([]Name(nil), r.order...) }
