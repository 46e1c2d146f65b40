"""Coding interviews: import, pseudonymised text, code book, and the thesis tallies from fragments."""

from importlib import resources

import pandas as pd
import pytest

from kantelmeter import agreement, coding, wheel
from kantelmeter.privacy import Pseudonymiser

# Section 7.4.2 of the source study: people whose participation increased, per domain.
STUDY_TALLIES = {
    "eigen_inkomen": 2,
    "maatschappelijke_bijdragen": 2,
    "sociale_contacten": 3,
    "zelfstandig_functioneren": 4,
    "opdoen_vaardigheden": 3,
    "maatschappelijk_deelnemen": 0,
}


@pytest.fixture
def pseudonymiser(tmp_path):
    return Pseudonymiser(tmp_path / "pseudonym.key")


def test_thesis_tallies_come_out_of_the_coded_fragments():
    coded = coding.thesis_fragments()
    from_fragments = wheel.summarise(coding.wheel_changes(coded))
    assert from_fragments.set_index("domain")["n_increase"].to_dict() == STUDY_TALLIES
    # the same summary as the statement table of data/thesis and as the questionnaire path (test_wheel)
    pd.testing.assert_frame_equal(from_fragments, wheel.summarise(wheel.thesis_changes()))
    assert coded.fragments["respondent"].nunique() == 15


def test_fragments_resolve_to_the_studys_coded_statements():
    with resources.files("kantelmeter.data").joinpath("thesis/participation_changes.csv").open("rb") as handle:
        published = pd.read_csv(handle)
    statements = coding.wheel_statements(coding.thesis_fragments())
    key = ["respondent", "domain", "change", "attribution"]
    assert sorted(map(tuple, statements[key].to_numpy())) == sorted(map(tuple, published[key].to_numpy()))


def test_code_frequencies_per_respondent_and_group():
    freq = coding.code_frequencies(coding.thesis_fragments())
    material = freq[freq["code"].str.startswith("intervention:indication")]
    assert material["n_fragments"].sum() == 3  # two scooters and one home adaptation
    assert set(freq["group"]) == {"wheel", "attribution", "intervention", "frame"}
    specht = freq[freq["respondent"] == "Specht (mevrouw)"].set_index("code")["n_fragments"]
    assert specht["wheel:opdoen_vaardigheden:increase"] == 1


def test_codebook_reads_domains_from_the_instrument_and_marks_interventions():
    book = coding.load_codebook()
    table = book.table("en")
    domains = set(table.loc[table["group"] == "wheel", "domain"])
    assert domains == set(wheel.domains(book.instrument))
    kinds = table[table["group"] == "intervention"].groupby("kind").size().to_dict()
    assert kinds == {"immaterial": 3, "material": 6}
    assert "frame:pressure_of_suffering" in book.codes


def test_plain_text_transcript_masks_names_and_bsn(tmp_path, pseudonymiser):
    transcript = tmp_path / "interview_3.txt"
    transcript.write_text(
        "Mevrouw van  der Linden vertelt over haar buurman.\n\n"
        "Haar dochter  SANNE belt nu elke week. Mijn BSN is 1112.22.333 zei ze.\n\n"
        "De evaluatie met Sanne-Marie en dhr. Ter Horst was goed.\n",
        encoding="utf-8",
    )
    coded = coding.read_fragments(transcript, respondent="r03", names=["Sanne"], pseudonymiser=pseudonymiser)
    texts = coded.fragments["text"].tolist()
    everything = " ".join(texts) + " ".join(map(str, coded.fragments.to_numpy().ravel()))
    for leaked in ("Linden", "SANNE", "1112.22.333", "Horst"):
        assert leaked not in everything
    # one person, one token, whatever the spelling
    sanne = f"[{pseudonymiser.pseudonymise('name', 'Sanne')}]"
    assert sanne in texts[1]
    assert texts[0].startswith("Mevrouw [p-")
    # whole words only: 'evaluatie' is not Eva; part of a double name is masked rather than kept
    assert "evaluatie" in coding.mask_names("De evaluatie", ["Eva"], pseudonymiser)
    assert "Sanne" not in texts[2]
    assert "[bsn]" in texts[1]
    # a number that fails the eleven-test is not a BSN and stays
    assert "123456789" in coding.mask_names("dossier 123456789", (), pseudonymiser)


def test_docx_transcript_one_fragment_per_paragraph(tmp_path, pseudonymiser):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for paragraph in ("Meneer De Vries kwam voor een scootmobiel.", "", "Hij gaat nu naar de soos."):
        document.add_paragraph(paragraph)
    path = tmp_path / "gesprek.docx"
    document.save(str(path))
    coded = coding.read_fragments(path, respondent="r09", pseudonymiser=pseudonymiser)
    assert coded.fragments["position"].tolist() == [1, 2]
    assert "Vries" not in coded.fragments["text"].iloc[0]
    with pytest.raises(coding.CodingError, match="gesprek.docx: respondent is missing"):
        coding.read_fragments(path, pseudonymiser=pseudonymiser)


def test_csv_with_a_name_column_keeps_no_name(tmp_path, pseudonymiser):
    path = tmp_path / "answers.csv"
    path.write_text(
        "name,respondent,text,coder,codes\n"
        'Piet Bakker,,"Piet Bakker zegt: ik ga weer naar de buurtkamer.",ann,'
        "wheel:maatschappelijk_deelnemen:increase;attribution:pilot\n",
        encoding="utf-8",
    )
    coded = coding.read_fragments(path, pseudonymiser=pseudonymiser)
    row = coded.fragments.iloc[0]
    assert row["respondent"] == pseudonymiser.pseudonymise("name", "piet  bakker")
    assert "Bakker" not in row["text"] and "name" not in coded.fragments.columns
    assert coded.codings["code"].tolist() == ["wheel:maatschappelijk_deelnemen:increase", "attribution:pilot"]


def test_csv_reports_every_problem_and_keeps_nothing(tmp_path, pseudonymiser):
    path = tmp_path / "bad.csv"
    path.write_text(
        "fragment,respondent,text,coder,codes\n"
        "a,r1,tekst,ann,wheel:sociale_contacten:better\n"
        "a,r2,tekst,,frame:meaning\n"
        ",,tekst,ann,\n",
        encoding="utf-8",
    )
    with pytest.raises(coding.CodingError) as info:
        coding.read_fragments(path, pseudonymiser=pseudonymiser)
    problems = info.value.problems
    assert any(
        "bad.csv row 2, field 'codes': code 'wheel:sociale_contacten:better' is not in code book" in p for p in problems
    )
    assert any("bad.csv row 3, field 'coder': empty while codes are given" in p for p in problems)
    assert any("bad.csv row 4, field 'fragment': an empty id" in p for p in problems)
    assert any("bad.csv row 4, field 'respondent': empty" in p for p in problems)
    assert any("ids ['a'] occur more than once" in p for p in problems)
    with pytest.raises(coding.CodingError, match="file type '.pdf' is not allowed"):
        coding.read_fragments(tmp_path / "x.pdf")


def _two_fragments(codes):
    fragments = pd.DataFrame(
        {"fragment": ["f1", "f2"], "respondent": ["r1", "r1"], "source": "t", "position": [1, 2], "text": ["a", "b"]}
    )
    codings = pd.DataFrame(codes, columns=["fragment", "coder", "code"])
    return coding.CodedFragments(fragments, codings)


def test_conflicting_codes_are_reported_not_decided():
    tie = _two_fragments(
        [("f1", "ann", "wheel:eigen_inkomen:increase"), ("f2", "ann", "wheel:eigen_inkomen:no_change")]
    )
    with pytest.raises(coding.CodingError, match="respondent 'r1', domain 'eigen_inkomen': directions tie"):
        coding.wheel_statements(tie)
    two_coders = _two_fragments(
        [("f1", "ann", "wheel:eigen_inkomen:increase"), ("f1", "bob", "wheel:eigen_inkomen:increase")]
    )
    with pytest.raises(coding.CodingError, match="coded by ann, bob; allowed: choose one"):
        coding.wheel_statements(two_coders)
    table = coding.wheel_changes(two_coders, coder="bob")
    assert table.loc[table["domain"] == "eigen_inkomen", "change"].tolist() == ["increase"]
    # an increase without an attribution code has an unknown attribution, not 'not applicable'
    assert table.loc[table["domain"] == "eigen_inkomen", "attribution"].isna().all()


def test_coding_session_records_replaces_and_saves_atomically(tmp_path):
    coded = coding.thesis_fragments()
    session = coding.CodingSession(coded.fragments, coder="bob")
    session.code("f01", "wheel:sociale_contacten:increase", "wheel:sociale_contacten:increase")
    session.code("f01", "wheel:sociale_contacten:no_change")  # a second thought replaces the first
    session.code("f02")  # seen, nothing to code
    assert session.codings["code"].isna().tolist() == [False, True]
    assert session.codings["code"].iloc[0] == "wheel:sociale_contacten:no_change"
    assert session.next()["fragment"] == "f03" and session.progress() == (2, 20)
    with pytest.raises(coding.CodingError, match="fragment 'f99' does not exist"):
        session.code("f99", "frame:meaning")
    path = session.save(tmp_path / "codes.csv")
    assert pd.read_csv(path)["fragment"].tolist() == ["f01", "f02"]
    assert [p.name for p in tmp_path.iterdir()] == ["codes.csv"]  # no temporary file left


def test_coding_session_escapes_fragment_text():
    # attack: a transcript with markup must not run in the coder's notebook
    fragments = pd.DataFrame({"fragment": ["x"], "respondent": ["<b>r</b>"], "text": ["<script>alert(1)</script>"]})
    shown = coding.CodingSession(fragments, coder="ann")._repr_html_()
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "<b>r</b>" not in shown


def test_two_coders_agreement_on_wheel_codes():
    coded = coding.thesis_fragments()
    first = coding.CodingSession(coded.fragments, coder="ann", codings=coded.codings.assign(coder="ann"))
    second = coding.CodingSession(coded.fragments, coder="bob", codings=first.codings)
    for _, row in coded.fragments.iterrows():
        codes = coded.codings.loc[coded.codings["fragment"] == row["fragment"], "code"].tolist()
        if row["fragment"] == "f10":  # bob reads f10 as no change
            codes = ["wheel:zelfstandig_functioneren:no_change"]
        second.code(row["fragment"], *[c for c in codes if c.startswith("wheel:")])
    matrix = coding.coder_matrix(second.coded(), "wheel")
    assert list(matrix.columns) == ["ann", "bob"] and len(matrix) == 20
    result = agreement.krippendorff_alpha(matrix, n_boot=0).iloc[0]
    assert 0.8 < result["alpha"] < 1
    # 19 of 20 fragments agree: observed disagreement 1/20 per pair, below chance
    perfect = agreement.krippendorff_alpha(matrix.assign(bob=matrix["ann"]), n_boot=0).iloc[0]
    assert perfect["alpha"] == pytest.approx(1.0)
