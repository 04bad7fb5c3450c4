#!/usr/bin/env python3
"""vault-policy --jwt: tokens signed at test time with keys made by openssl.

Each case is (what, how the token is made, --jwt-alg, key file, --now, expected exit, expected
stdout/stderr fragment).  Accepted tokens must yield the groups they carry (Keycloak's leading
'/' stripped); every refusal must print nothing on stdout and exit 4; a token that is not for --user is
refused; an unreadable token or an unusable key (a PEM or short HS256 secret, a key of another
type than the algorithm's, a secret file whose final newline the token's secret lacks) exits 1.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile

SOURCE = os.environ["VS_SOURCE_ROOT"]
TOOL = os.path.join(os.environ["VS_BUILD_ROOT"], "tools", "vault-policy", "vault-policy")
POLICY = os.path.join(SOURCE, "tests", "data", "policy", "seed.yaml")
NOW = 1796083200 + 14 * 86400  # 2026-12-15T00:00:00Z
NOW_TEXT = "2026-12-15T00:00:00Z"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def der_to_raw(der, size=32):
    """ECDSA signatures are DER in openssl and r||s in JWS (RFC 7518 §3.4)."""
    assert der[0] == 0x30
    pos = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        assert der[pos] == 0x02
        length = der[pos + 1]
        value = der[pos + 2:pos + 2 + length].lstrip(b"\0")
        out += value.rjust(size, b"\0")
        pos += 2 + length
    return out


class Keys:
    def __init__(self, tmp):
        self.tmp = tmp
        self.rsa = self.path("rsa.pem")
        self.rsa_pub = self.path("rsa.pub")
        self.ec = self.path("ec.pem")
        self.ec_pub = self.path("ec.pub")
        self.hs = self.path("hs.key")
        self.other_hs = self.path("other-hs.key")
        self.short_hs = self.path("short-hs.key")
        self.hs_newline = self.path("hs-newline.key")
        self.other_rsa = self.path("other-rsa.pem")
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.rsa)
        openssl("pkey", "-in", self.rsa, "-pubout", "-out", self.rsa_pub)
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.ec)
        openssl("pkey", "-in", self.ec, "-pubout", "-out", self.ec_pub)
        with open(self.hs, "wb") as f:
            f.write(os.urandom(32).hex().encode())
        with open(self.other_hs, "wb") as f:
            f.write(os.urandom(32).hex().encode())
        with open(self.hs_newline, "wb") as f:  # the secret of hs.key as `echo` writes it
            f.write(open(self.hs, "rb").read() + b"\n")
        with open(self.short_hs, "wb") as f:
            f.write(os.urandom(8).hex().encode())  # 16 bytes: too short for HS256
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.other_rsa)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def sign(self, alg, signing_input, key=None):
        if alg == "none":
            return b""
        if alg == "HS256":
            secret = open(key or self.hs, "rb").read()
            return hmac.new(secret, signing_input, hashlib.sha256).digest()
        if alg == "RS256":
            return openssl("dgst", "-sha256", "-sign", key or self.rsa, data=signing_input)
        if alg == "ES256":
            return der_to_raw(openssl("dgst", "-sha256", "-sign", key or self.ec, data=signing_input))
        raise ValueError(alg)

    def token(self, alg, claims, key=None, tamper=False, unsigned=False, crit=False):
        fields = {"alg": alg, "typ": "JWT"}
        if crit:
            fields.update(crit=["exp-at-edge"], **{"exp-at-edge": True})
        header = b64url(json.dumps(fields).encode())
        payload = b64url(json.dumps(claims).encode())
        signing_input = f"{header}.{payload}".encode()
        if unsigned:
            return f"{header}.{payload}."
        signature = bytearray(self.sign(alg, signing_input, key))
        if tamper:
            signature[len(signature) // 2] ^= 0x01
        return f"{header}.{payload}.{b64url(bytes(signature))}"


def claims(**extra):
    base = {"sub": "dana", "exp": NOW + 3600, "groups": ["/legal", "/executive", "all-employees"]}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def main():
    if not shutil.which("openssl"):
        print("openssl is missing (dev/install-deps installs it)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        keys = Keys(tmp)
        deal_room = '"name": "deal-room-acme"'
        cases = [
            # what, alg in token, claims, signing key, --jwt-alg, --jwt-key, extra args, exit, fragment
            ("RS256 accepted, Keycloak '/' stripped", "RS256", claims(), None, "RS256", keys.rsa_pub, [], 0, deal_room),
            ("ES256 accepted", "ES256", claims(), None, "ES256", keys.ec_pub, [], 0, deal_room),
            ("HS256 accepted", "HS256", claims(), None, "HS256", keys.hs, [], 0, deal_room),
            ("custom groups claim", "RS256", claims(groups=None, roles=["legal", "executive"]), None, "RS256",
             keys.rsa_pub, ["--groups-claim", "roles"], 0, deal_room),
            ("nbf in the past is fine", "RS256", claims(nbf=NOW - 60), None, "RS256", keys.rsa_pub, [], 0, deal_room),
            ("RS256 token, ES256 pinned", "RS256", claims(), None, "ES256", keys.ec_pub, [], 4, "token refused"),
            ("ES256 token, RS256 pinned", "ES256", claims(), None, "RS256", keys.rsa_pub, [], 4, "token refused"),
            ("HS256 signed with the RSA public key (algorithm confusion)", "HS256", claims(), keys.rsa_pub, "RS256",
             keys.rsa_pub, [], 4, "token refused"),
            ("alg none", "none", claims(), None, "RS256", keys.rsa_pub, [], 4, "token refused"),
            ("alg none against an HS256 pin", "none", claims(), None, "HS256", keys.hs, [], 4, "token refused"),
            ("bad RS256 signature", "RS256", claims(), None, "RS256", keys.rsa_pub, [], 4, "does not verify"),
            ("bad ES256 signature", "ES256", claims(), None, "ES256", keys.ec_pub, [], 4, "does not verify"),
            ("HS256 with another secret", "HS256", claims(), keys.other_hs, "HS256", keys.hs, [], 4, "does not verify"),
            ("expired", "RS256", claims(exp=NOW), None, "RS256", keys.rsa_pub, [], 4, "token expired at 2026-12-15T00:00:00Z"),
            ("not yet valid", "RS256", claims(nbf=NOW + 1), None, "RS256", keys.rsa_pub, [], 4,
             "token not valid before 2026-12-15T00:00:01Z"),
            ("no exp", "RS256", claims(exp=None), None, "RS256", keys.rsa_pub, [], 4, "no \"exp\" claim"),
            ("groups claim missing", "RS256", claims(groups=None), None, "RS256", keys.rsa_pub, [], 4,
             "no \"groups\" claim"),
            ("groups claim not a list", "RS256", claims(groups="legal"), None, "RS256", keys.rsa_pub, [], 4,
             "must be an array"),
            # Distinct words for each way a token fails.
            ("alg none says unsigned", "none", claims(), None, "RS256", keys.rsa_pub, [], 4,
             'token refused: it is unsigned ("alg": "none")'),
            ("unsigned RS256 (no signature part)", "RS256", claims(), None, "RS256", keys.rsa_pub, ["UNSIGNED"], 4,
             "token refused: it carries no signature"),
            ("signed with another RSA key", "RS256", claims(), keys.other_rsa, "RS256", keys.rsa_pub, [], 4,
             "token refused: its signature does not verify with"),
            ("expired says expired", "RS256", claims(exp=NOW - 1), None, "RS256", keys.rsa_pub, [], 4,
             "token refused: token expired at 2026-12-14T23:59:59Z"),
            # The user is the token's, not whatever --user says.
            ("--user must be the token's user", "RS256", claims(), None, "RS256", keys.rsa_pub, ["--user", "mallory"], 4,
             'token refused: it is for user "dana" (claim "sub"), not "mallory" (--user)'),
            ("without --user the token names the user", "RS256", claims(), None, "RS256", keys.rsa_pub, ["NO_USER"], 0,
             '"name": "dana"'),
            ("preferred_username before sub", "RS256", claims(sub="f81d4fae-7dec", preferred_username="dana"), None,
             "RS256", keys.rsa_pub, [], 0, '"name": "dana"'),
            ("preferred_username binds --user", "RS256", claims(preferred_username="mallory"), None, "RS256",
             keys.rsa_pub, [], 4, 'it is for user "mallory" (claim "preferred_username"), not "dana"'),
            ("--user-claim upn", "RS256", claims(sub="f81d4fae-7dec", upn="dana"), None, "RS256", keys.rsa_pub,
             ["--user-claim", "upn", "NO_USER"], 0, '"name": "dana"'),
            ("--user-claim missing from the token", "RS256", claims(), None, "RS256", keys.rsa_pub,
             ["--user-claim", "email"], 4, 'no string claim "email" (--user-claim)'),
            # Issuer and audience.
            ("--jwt-iss matches", "RS256", claims(iss="https://sso.example.com/realms/acme"), None, "RS256",
             keys.rsa_pub, ["--jwt-iss", "https://sso.example.com/realms/acme"], 0, deal_room),
            ("--jwt-iss differs", "RS256", claims(iss="https://evil.example.com"), None, "RS256", keys.rsa_pub,
             ["--jwt-iss", "https://sso.example.com/realms/acme"], 4,
             'issued by "https://evil.example.com", but --jwt-iss requires'),
            ("--jwt-iss, token without iss", "RS256", claims(), None, "RS256", keys.rsa_pub,
             ["--jwt-iss", "https://sso.example.com/realms/acme"], 4, 'no "iss" claim'),
            ("--jwt-aud in an aud array", "RS256", claims(aud=["account", "vault"]), None, "RS256", keys.rsa_pub,
             ["--jwt-aud", "vault"], 0, deal_room),
            ("--jwt-aud as the aud string", "RS256", claims(aud="vault"), None, "RS256", keys.rsa_pub,
             ["--jwt-aud", "vault"], 0, deal_room),
            ("--jwt-aud not in aud", "RS256", claims(aud=["account"]), None, "RS256", keys.rsa_pub,
             ["--jwt-aud", "vault"], 4, 'its audience ("aud") does not include "vault"'),
            ("--jwt-aud, token without aud", "RS256", claims(), None, "RS256", keys.rsa_pub, ["--jwt-aud", "vault"], 4,
             'no "aud" claim'),
            # Keys that must never serve as an HS256 secret: a bad input (exit 1), before any token is read.
            ("HS256 with a PEM public key as the secret", "HS256", claims(), keys.rsa_pub, "HS256", keys.rsa_pub, [], 1,
             "an HS256 key must be the shared secret, not a PEM key"),
            ("HS256 with a 16-byte secret", "HS256", claims(), keys.short_hs, "HS256", keys.short_hs, [], 1,
             "the HS256 secret has 16 bytes; it needs at least 32"),
            ("RS256 with a raw secret as the key", "RS256", claims(), None, "RS256", keys.hs, [], 1,
             "expected a PEM public key for RS256"),
            # Each wrong key is a bad input (exit 1), and says what is wrong with it.
            ("EC public key for RS256", "RS256", claims(), None, "RS256", keys.ec_pub, [], 1,
             "the key type does not match the algorithm: it is an EC P-256 public key, but RS256 verifies with an "
             "RSA public key"),
            ("private-key PEM for RS256", "RS256", claims(), None, "RS256", keys.rsa, [], 1,
             "the key type does not match the algorithm: it is a private key"),
            ("RSA public key for ES256", "ES256", claims(), None, "ES256", keys.rsa_pub, [], 1,
             "the key type does not match the algorithm: it is an RSA public key"),
            ("HS256 secret file with a trailing newline", "HS256", claims(), keys.hs, "HS256", keys.hs_newline, [], 1,
             "the HS256 secret ends with a line break"),
            # Malformed claims and headers are refused as such.
            ("fractional exp", "RS256", claims(exp=NOW + 3600.5), None, "RS256", keys.rsa_pub, [], 4,
             'its claim "exp" is malformed'),
            ("string exp", "RS256", claims(exp=str(NOW + 3600)), None, "RS256", keys.rsa_pub, [], 4,
             'its claim "exp" is malformed'),
            ("fractional nbf", "RS256", claims(nbf=NOW - 0.5), None, "RS256", keys.rsa_pub, [], 4,
             'its claim "nbf" is malformed'),
            ("unknown crit header", "RS256", claims(), None, "RS256", keys.rsa_pub, ["CRIT"], 4,
             'its header marks "exp-at-edge" critical'),
            ("missing token file", "RS256", claims(), None, "RS256", keys.rsa_pub, ["NO_TOKEN"], 1,
             "cannot read token: No such file or directory"),
        ]
        failures = 0
        for what, alg, body, sign_key, pin, key, extra, status, fragment in cases:
            tamper = what.startswith("bad ")
            token_file = keys.path("token")
            with open(token_file, "w") as f:
                f.write(keys.token(alg, body, sign_key, tamper, unsigned="UNSIGNED" in extra,
                                   crit="CRIT" in extra) + "\n")
            if "NO_TOKEN" in extra:
                token_file = keys.path("no-such-token")
            user = [] if "NO_USER" in extra or "--user" in extra else ["--user", "dana"]
            extra = [a for a in extra if a not in ("NO_USER", "UNSIGNED", "NO_TOKEN", "CRIT")]
            args = [TOOL, "resolve", POLICY, *user, "--uid", "1001", "--now", NOW_TEXT, "--format", "json",
                    "--jwt", token_file, "--jwt-key", key, "--jwt-alg", pin, *extra]
            res = subprocess.run(args, capture_output=True, text=True, timeout=30)
            problems = []
            if res.returncode != status:
                problems.append(f"exit {res.returncode}, expected {status}")
            if status != 0 and res.stdout:
                problems.append("a refused token must print nothing on stdout")
            if fragment not in (res.stdout if status == 0 else res.stderr):
                problems.append(f"missing {fragment!r}")
            print(f"{'ok  ' if not problems else 'FAIL'} {what}")
            for p in problems:
                print(f"     {p}\n     stdout: {res.stdout[:300]!r}\n     stderr: {res.stderr.strip()!r}")
            failures += bool(problems)

        # --jwt-alg outside the pinned set is a usage error, before any token is read.
        res = subprocess.run([TOOL, "resolve", POLICY, "--user", "d", "--uid", "1", "--jwt", keys.path("token"),
                              "--jwt-key", keys.hs, "--jwt-alg", "none"], capture_output=True, text=True)
        ok = res.returncode == 2 and not res.stdout
        print(f"{'ok  ' if ok else 'FAIL'} --jwt-alg none is a usage error (exit {res.returncode})")
        failures += not ok
        print(f"{len(cases) + 1 - failures} passed, {failures} failed")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
