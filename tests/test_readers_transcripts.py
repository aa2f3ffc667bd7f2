"""Transcript readers on the real subtitle files in tests/fixtures/real/webvtt and on files written
here."""

import docx
import pytest

from research.inputs.transcripts import TranscriptError, read_transcript

READABLE = {  # file -> (turns, first words of the merged text, a warning expected)
    "sample.vtt": (1, "Caption text #1 Caption text #2", False),
    "captions_with_bom.vtt": (1, "Caption text #1", False),
    "cue_tags.vtt": (1, "When the moon hits your eye Like a big-a pizza pie That's amore", False),
    "metadata_headers.vtt": (1, "Caption text #1 Caption text #2", False),
    "missing_caption_text.vtt": (1, "Caption text #1 Caption text #3", False),
    "invalid_timeframe.vtt": (1, "Caption text #1 Caption text #3", True),
    "sample.srt": (1, "Caption text #1 Caption text #2", False),
}
REJECTED = {"invalid.vtt": "invalid_transcript", "empty.vtt": "empty_transcript"}


@pytest.mark.parametrize("name", sorted(READABLE))
def test_real_subtitle_files_are_read(real, name):
    n_turns, start, warned = READABLE[name]
    t = read_transcript(real / "webvtt" / name)
    assert len(t.turns) == n_turns
    assert t.turns.loc[0, "text"].startswith(start)
    assert "<" not in t.turns.loc[0, "text"]  # cue tags and timestamps stripped
    assert (t.warning is not None) == warned
    assert t.turns.loc[0, "speaker"] == ""  # these files name no speaker


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_invalid_and_empty_subtitle_files_are_rejected_with_a_problem_word(real, name):
    with pytest.raises(TranscriptError) as err:
        read_transcript(real / "webvtt" / name)
    assert err.value.problem == REJECTED[name]


def test_every_real_subtitle_file_is_either_read_or_rejected(real):
    files = sorted(p.name for p in (real / "webvtt").iterdir())
    assert sorted(set(READABLE) | set(REJECTED)) == files


def test_vtt_voice_tags_merge_one_turn_split_over_many_cues(tmp_path):
    path = tmp_path / "teams.vtt"
    path.write_text(
        "WEBVTT\n\n1\n00:00:01.250 --> 00:00:02.000\n"
        "<v Interviewer>How do you work together?</v>\n\n"
        "2\n00:00:02.500 --> 00:00:04.000\n<v Ana Ruiz>We meet weekly.</v>\n\n"
        "3\n00:00:04.000 --> 00:00:06.000\n<v Ana Ruiz>Sales joins our planning.</v>\n\n"
        "4\n00:00:06.000 --> 00:00:07.000\n<v.loud Interviewer>Thanks.</v>\n",
        "utf-8",
    )
    turns = read_transcript(path).turns
    assert turns["speaker"].tolist() == ["Interviewer", "Ana Ruiz", "Interviewer"]
    assert turns["turn"].tolist() == [1, 2, 3]
    assert turns.loc[1, "text"] == "We meet weekly. Sales joins our planning."
    assert turns.loc[0, "start"] == pytest.approx(1.25)  # milliseconds kept


def test_zoom_style_name_prefixes_in_vtt_and_srt_with_crlf_and_bom(tmp_path):
    srt = tmp_path / "zoom.srt"
    srt.write_bytes(
        b"\xef\xbb\xbf"
        + (
            b"1\r\n00:00:01,000 --> 00:00:02,000\r\nInterviewer: Hello.\r\n\r\n"
            b"2\r\n00:00:02,000 --> 00:00:03,000\r\nBo Li: Hi there.\r\n\r\n"
            b"3\r\n00:00:03,000 --> 00:00:04,000\r\nBo Li: More.\r\n"
        )
    )
    turns = read_transcript(srt).turns
    assert turns[["speaker", "text"]].values.tolist() == [
        ["Interviewer", "Hello."],
        ["Bo Li", "Hi there. More."],
    ]


def test_txt_timestamps_speakers_and_continuation_lines(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(
        "[00:00:05] Interviewer: First question?\n[00:01:10] Sam: One answer\n"
        "that continues here.\n\nSam: and more.\n"
        "Interviewer: Next.\n",
        "utf-8",
    )
    turns = read_transcript(path).turns
    assert turns["speaker"].tolist() == ["Interviewer", "Sam", "Interviewer"]
    assert turns.loc[1, "text"] == "One answer that continues here. and more."
    assert turns.loc[1, "start"] == 70.0


def test_docx_paragraphs_read_as_text_lines(tmp_path):
    path = tmp_path / "t.docx"
    document = docx.Document()
    for line in [
        "Interviewer: Welcome.",
        "Kim: Thanks for having me.",
        "It has been a busy year.",
        "Interviewer: Indeed.",
    ]:
        document.add_paragraph(line)
    document.save(str(path))
    turns = read_transcript(path).turns
    assert turns[["turn", "speaker"]].values.tolist() == [
        [1, "Interviewer"],
        [2, "Kim"],
        [3, "Interviewer"],
    ]
    assert turns.loc[1, "text"] == "Thanks for having me. It has been a busy year."


def test_broken_docx_is_an_invalid_transcript_not_a_crash(tmp_path):
    path = tmp_path / "t.docx"
    path.write_bytes(b"PK\x03\x04 definitely not a word file")
    with pytest.raises(TranscriptError) as err:
        read_transcript(path)
    assert err.value.problem == "invalid_transcript"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("plain.txt", "How do you work with sales?\nHonestly, they only care about the quarter.\n"),
        (
            "plain.vtt",
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHow do you work with sales?\n\n"
            "00:00:02.000 --> 00:00:04.000\nThey only care about the quarter.\n",
        ),
        (
            "plain.srt",
            "1\n00:00:01,000 --> 00:00:02,000\nHow do you work with sales?\n\n"
            "2\n00:00:02,000 --> 00:00:04,000\nThey only care about the quarter.\n",
        ),
    ],
)
def test_a_transcript_without_any_speaker_label_is_read_but_not_accepted(tmp_path, name, text):
    from research.inputs.transcripts import NO_SPEAKER_LABELS, require_speakers

    path = tmp_path / name
    path.write_text(text, "utf-8")
    t = read_transcript(path)  # the reader reads it: one turn of nobody
    assert t.speakers == [] and t.turns["speaker"].tolist() == [""]
    with pytest.raises(TranscriptError) as err:
        require_speakers(t, name)
    assert err.value.problem == "invalid_transcript"
    assert str(err.value).startswith(NO_SPEAKER_LABELS)
    assert ("<v Name>" in str(err.value)) == name.endswith(".vtt")


def test_speakers_are_listed_once_in_order_and_one_label_is_enough(tmp_path):
    from research.inputs.transcripts import require_speakers

    path = tmp_path / "t.txt"
    path.write_text("Ana: Hi.\nTom: Hello.\nAna: Again.\nunlabelled goes on Ana's turn\n", "utf-8")
    t = read_transcript(path)
    assert t.speakers == ["Ana", "Tom"]
    assert require_speakers(t, "t.txt") is t
