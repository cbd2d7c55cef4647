"""The sipvs.lvs lab: director VMs under qemu, real servers in podman, a client
namespace, all on one bridge inside one network namespace. `python -m lab --help`."""
