#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# tests/data/gen/keyvectors.py -- generate the known-answer signature vectors in
# tests/data/good/keys/ with pyca/cryptography (Debian python3-cryptography).
# Run once; the output is committed. Each file: {"key": TUF key object,
# "message": str, "sig": hex signature} with the signature over the UTF-8
# bytes of message, made the way securesystemslib signs.
import json, sys, os
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

out = sys.argv[1]
msg = b'{"_type":"targets","spec_version":"1.0.31","version":1}'
pem = lambda k: k.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()

def dump(name, key, sig):
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump({"key": key, "message": msg.decode(), "sig": sig.hex()}, f, indent=1, sort_keys=True)

k = ed25519.Ed25519PrivateKey.generate()
raw = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
dump("ed25519", {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": raw.hex()}}, k.sign(msg))

k = ec.generate_private_key(ec.SECP256R1())
key = {"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": pem(k.public_key())}}
dump("ecdsa", key, k.sign(msg, ec.ECDSA(hashes.SHA256())))
key = dict(key, keytype="ecdsa-sha2-nistp256")
dump("ecdsa-legacy-keytype", key, k.sign(msg, ec.ECDSA(hashes.SHA256())))

k = rsa.generate_private_key(public_exponent=65537, key_size=3072)
key = {"keytype": "rsa", "scheme": "rsassa-pss-sha256", "keyval": {"public": pem(k.public_key())}}
dump("rsa-pss-saltmax", key, k.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                      salt_length=padding.PSS.MAX_LENGTH), hashes.SHA256()))
dump("rsa-pss-salt32", key, k.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                    salt_length=32), hashes.SHA256()))
# an ECDSA P-384 key declared as nistp256: must be refused
k = ec.generate_private_key(ec.SECP384R1())
key = {"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": pem(k.public_key())}}
dump("ecdsa-p384-as-p256", key, k.sign(msg, ec.ECDSA(hashes.SHA256())))
