//go:build !unix

package gdbstub

import "io/fs"

// hostStatInfo is what a Unix host's stat adds to fs.FileInfo; other hosts have none.
type hostStatInfo struct {
	dev, ino, nlink uint64
	uid, gid        uint32
	blksize, blocks uint64
}

func hostStat(fs.FileInfo) (hostStatInfo, bool) { return hostStatInfo{}, false }
