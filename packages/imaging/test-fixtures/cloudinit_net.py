"""Renders a config drive's network config the way cloud-init 22.4 on a Debian guest does.

Usage: /usr/bin/python3 cloudinit_net.py nocloud|openstack|ovf DIR MAC=NAME...

Reads the drive with cloud-init's datasource code, turns OpenStack network_data.json into
network config with convert_net_json (NICs found by MAC in the given MAC=NAME pairs), parses it
into cloud-init's network state and renders it with the ifupdown (ENI) renderer, as the Debian
12 guest does (it has ifupdown and no netplan). Prints the /etc/network/interfaces text.
"""
import sys

from cloudinit import util
from cloudinit.net import eni, network_state
from cloudinit.sources import DataSourceNoCloud, DataSourceOVF
from cloudinit.sources.DataSourceConfigDrive import read_config_drive
from cloudinit.sources.helpers import openstack


def main(kind, path, pairs):
    macs = dict(p.split("=", 1) for p in pairs)
    if kind == "nocloud":
        seeded = util.pathprefix2dict(
            path, required=["user-data", "meta-data"], optional=["network-config"]
        )
        cfg = DataSourceNoCloud._merge_new_seed({"meta-data": {}}, seeded)["network-config"]
    elif kind == "openstack":
        cfg = openstack.convert_net_json(read_config_drive(path)["networkdata"], known_macs=macs)
    else:
        _, contents = DataSourceOVF.get_ovf_env(path)
        md, _, _ = DataSourceOVF.read_ovf_environment(contents, read_network=True)
        cfg = md["network-config"]
    if "network" in cfg:
        cfg = cfg["network"]
    state = network_state.parse_net_config_data(cfg, skip_broken=False)
    print(eni.Renderer()._render_interfaces(state))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
