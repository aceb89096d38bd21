package world

import (
	_ "embed"
)

// earthPlanet is the reference's compiled-in default planet, byte for byte.
//
//go:embed earth.planet
var earthPlanet []byte

// Earth returns ZeroTier's default planet (world 149604618), the one every
// node that has no planet file starts with.
func Earth() *World {
	w, err := Parse(earthPlanet)
	if err != nil {
		panic("world: embedded default planet does not parse: " + err.Error())
	}
	return w
}

// EarthBytes returns the serialized default planet.
func EarthBytes() []byte { return append([]byte(nil), earthPlanet...) }
