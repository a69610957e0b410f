// Package procstat reads a Linux process's /proc/PID/stat (proc(5)): its
// command name, parent and CPU times. The load benchmark (bench/) and the
// PostgreSQL store's flow benchmarks measure the CPU of the processes
// they drive with it.
package procstat
