"""How lab/proof.py reads a /metrics page (Prometheus' text format): lines as node exporter 1.x's
IPVS collector and Asterisk 22's res_prometheus print them, recorded on the lab."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))

from lab import proof

WEIGHT = (
    'node_ipvs_backend_weight{local_address="",local_mark="00000003",local_port="0",proto="FWM",'
    'remote_address="172.16.11.76",remote_port="0"} 1'
)
PAGE = (
    """# HELP node_ipvs_backend_weight The current backend weight.
# TYPE node_ipvs_backend_weight gauge
"""
    + WEIGHT
    + """
node_ipvs_connections_total 412
asterisk_endpoints_state{eid="52:54:00:11:00:4c",id="PJSIP/sipp",tech="PJSIP",resource="sipp"} 1
asterisk_core_properties{version="22.10.1",build_options="OPTIONAL_API, TEST_FRAMEWORK"} 1
"""
)


def test_parse_metrics_reads_names_labels_and_values_and_skips_comments():
    samples = proof.parse_metrics(PAGE)
    assert [name for name, _labels, _value in samples] == [
        "node_ipvs_backend_weight",
        "node_ipvs_connections_total",
        "asterisk_endpoints_state",
        "asterisk_core_properties",
    ]
    assert samples[0][1]["local_mark"] == "00000003" and samples[0][1]["local_address"] == ""
    assert samples[1] == ("node_ipvs_connections_total", {}, 412.0)
    assert samples[3][1]["build_options"] == "OPTIONAL_API, TEST_FRAMEWORK"
