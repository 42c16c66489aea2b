"""The stack's self-signed certificate, made with openssl (one for every TLS listener)."""

import os

from .procs import run

SUBJECT = "/CN=mail.example.net"
SAN = "subjectAltName=DNS:mail.example.net,DNS:localhost,IP:127.0.0.1"


def make_cert(cert_path, key_path, days=30):
    """Write a fresh self-signed EC P-256 certificate and key (fast: no RSA prime search)."""
    os.makedirs(os.path.dirname(cert_path), exist_ok=True)
    run(["openssl", "req", "-x509", "-nodes", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-keyout", key_path,
         "-out", cert_path, "-days", str(days), "-subj", SUBJECT, "-addext", SAN])
    os.chmod(key_path, 0o600)
    os.chmod(cert_path, 0o644)
