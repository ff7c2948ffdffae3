"""Reads an extracted config drive with cloud-init's own datasource code and prints JSON.

Usage: /usr/bin/python3 cloudinit_read.py nocloud|openstack|ovf DIR

Run with Debian's /usr/bin/python3, where the cloud-init package is installed.
"""
import base64
import json
import sys

from cloudinit import util
from cloudinit.sources import DataSourceConfigDrive, DataSourceNoCloud, DataSourceOVF


def plain(value):
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def main(kind, path):
    if kind == "nocloud":
        seeded = util.pathprefix2dict(
            path, required=["user-data", "meta-data"], optional=["vendor-data", "network-config"]
        )
        data = DataSourceNoCloud._merge_new_seed({"meta-data": {}}, seeded)
        out = {
            "instance-id": data["meta-data"].get("instance-id"),
            "local-hostname": data["meta-data"].get("local-hostname"),
            "meta-data": data["meta-data"],
            "user-data": data.get("user-data"),
            "vendor-data": data.get("vendor-data"),
            "network-config": data.get("network-config"),
        }
    elif kind == "openstack":
        results = DataSourceConfigDrive.read_config_drive(path)
        md = results["metadata"]
        out = {
            "instance-id": md.get("instance-id"),
            "local-hostname": md.get("local-hostname"),
            "public-keys": md.get("public_keys"),
            "meta": md.get("meta"),
            "files": results.get("files"),
            "random_seed_len": len(md.get("random_seed") or b""),
            "user-data": results.get("userdata"),
            "vendor-data": results.get("vendordata"),
            "network-data": results.get("networkdata"),
            "ec2-metadata": results.get("ec2-metadata"),
            "version": results.get("version"),
        }
    elif kind == "ovf":
        name, contents = DataSourceOVF.get_ovf_env(path)
        if name is None:
            raise SystemExit("no ovf-env.xml found")
        md, ud, cfg = DataSourceOVF.read_ovf_environment(contents, read_network=True)
        out = {
            "instance-id": md.get("instance-id"),
            "local-hostname": md.get("local-hostname"),
            "public-keys": md.get("public-keys"),
            "seedfrom": md.get("seedfrom"),
            "user-data": ud,
            "network-config": md.get("network-config"),
        }
    else:
        raise SystemExit("unknown kind " + kind)
    print(json.dumps(plain(out), sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
