// Package prefetch asks the host processor to start bringing a line of memory into its
// caches, as a hint with no effect on what any program computes. The emulator uses it where
// it knows, some work ahead, which host memory a guest access is about to touch.
package prefetch
