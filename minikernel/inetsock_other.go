//go:build !linux

package minikernel

// AF_INET and AF_INET6 sockets are the host's, through Linux's socket calls
// (inetsock_linux.go); on other hosts the guest has no IP networking: EAFNOSUPPORT.
func (k *Kernel) newInetSock(p *Process, family, typ, proto int) (sockOps, Errno) {
	return nil, EAFNOSUPPORT
}
