# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The collection's modules support check mode and diff in full and run on
    # POSIX hosts; a module adds its own details (or says otherwise) in its
    # attributes. Use together with ansible.builtin.action_common_attributes,
    # which describes the attributes, and list this fragment before it: where
    # fragments set the same key the one listed first wins, and
    # action_common_attributes sets platform support to N/A.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
"""

    # The modules that run ipvsadm (sipvs.lvs.attributes.ipvs): what they need
    # on the managed host, and its manual page.
    IPVS = r"""
options: {}
requirements:
  - C(ipvsadm) on the managed host and a kernel with IPVS (C(ip_vs)).
attributes:
  platform:
    details: Linux with IPVS.
seealso:
  - name: ipvsadm(8)
    description: The administration tool for IPVS, which this module runs.
    link: https://man7.org/linux/man-pages/man8/ipvsadm.8.html
"""
