//go:build unix

package gdbstub

import (
	"io/fs"
	"syscall"
)

// hostStatInfo is what a Unix host's stat adds to fs.FileInfo.
type hostStatInfo struct {
	dev, ino, nlink uint64
	uid, gid        uint32
	blksize, blocks uint64
}

// hostStat reads the host's struct stat behind fi.
func hostStat(fi fs.FileInfo) (hostStatInfo, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return hostStatInfo{}, false
	}
	return hostStatInfo{dev: uint64(st.Dev), ino: uint64(st.Ino), nlink: uint64(st.Nlink), uid: st.Uid,
		gid: st.Gid, blksize: uint64(st.Blksize), blocks: uint64(st.Blocks)}, true
}
