//go:build race

package siv

const raceEnabled = true
