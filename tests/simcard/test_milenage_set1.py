"""Milenage against TS 35.208 test set 1 (the set quoted in shared/reference/sim-cards.md)."""

from simcard.milenage import Milenage, c2, c3, opc_from_op

H = bytes.fromhex
K = H("465b5ce8b199b49faa5f0a2ee238a6bc")
RAND = H("23553cbe9637a89d218ae64dae47bf35")
SQN = H("ff9bb4d0b607")
AMF = H("b9b9")
OP = H("cdc202d5123e20f62b6d676ac72cb318")
OPC = H("cd63cb71954a9f4e48a5994e37a02baf")


def test_opc_from_op_set1() -> None:
    assert opc_from_op(K, OP) == OPC


def test_f1_to_f5_set1() -> None:
    v = Milenage(K, OPC).vector(RAND, SQN, AMF)
    assert v.mac_a == H("4a9ffac354dfafb3")
    assert v.mac_s == H("01cfaf9ec4e871e9")
    assert v.res == H("a54211d5e3ba50bf")
    assert v.ck == H("b40ba9a3c58b2a05bbf0d987b21bf8cb")
    assert v.ik == H("f769bcd751044604127672711c6d3441")
    assert v.ak == H("aa689c648370")
    assert v.ak_star == H("451e8beca43b")


def test_auts_round_trip_recovers_sqn() -> None:
    m = Milenage(K, OPC)
    auts = m.auts(RAND, SQN)
    assert m.sqn_from_auts(RAND, auts) == SQN
    tampered = auts[:-1] + bytes([auts[-1] ^ 1])
    assert m.sqn_from_auts(RAND, tampered) is None


def test_c2_c3_shapes() -> None:
    res = H("a54211d5e3ba50bf")
    assert c2(res) == bytes(a ^ b for a, b in zip(res[:4], res[4:], strict=True))
    ck = H("b40ba9a3c58b2a05bbf0d987b21bf8cb")
    ik = H("f769bcd751044604127672711c6d3441")
    assert len(c3(ck, ik)) == 8
