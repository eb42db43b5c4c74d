"""Make the format fixtures of tests/test_formats*.py (see README.md here). Rerun from this folder:

    ../../../.venv/bin/python make_formats.py [--tools-python /path/to/python]

Needs openpyxl (a project dependency), python-docx, LibreOffice (`soffice`, Debian
libreoffice-writer-nogui + libreoffice-calc-nogui) and, for the .ofd and the encrypted .xlsx, a
Python with easyofd and msoffcrypto-tool installed (easyofd pulls PyMuPDF, so they live in their own
virtual environment, not in the project's).
"""
from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import tempfile
from pathlib import Path

import docx
import openpyxl
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent
SEED_DOCX = HERE.parents[3] / "shared" / "fixtures" / "seed" / "shaoyang_plan.docx"

TITLE = "某市2024年城市黑臭水体整治重点任务分工表"
HEADER = ["序号", "工作任务", "具体要求", "牵头单位", "配合单位", "完成时限"]
# None = covered by the merged cell above (the sheet leaves it empty).
ROWS = [
    ["一、系统治理"],
    ["1", "开展城区黑臭水体排查", "全面排查城区建成区水体，建立问题清单。", "市生态环境局", "市住房城乡建设局、市水利局",
     "2024年3月底前"],
    ["2", "推进截污纳管工程", "完成城区主干管网建设。", "市住房城乡建设局", "市财政局", "2024年6月30日前"],
    [None, None, "完成支管到户改造。", "市城管局", "/", "2024年12月底前"],
    ["3", "实施河道清淤疏浚", "完成城区河道清淤。", "市水利局", "各县市区", "2024年9月底前"],
    ["4", "建设生态补水工程", "建设生态补水泵站。", None, "—", datetime.date(2024, 10, 31)],
    ["二、长效管理"],
    ["5", "建立河长巡河制度", "每月开展一次巡河，发现问题及时交办。", "市河长办", "各县市区", "长期坚持"],
]
OFD_PLAN = [
    ("某县2024年农村人居环境整治重点任务分工方案", True),
    ("某政办发〔2024〕12号", False),
    ("一、重点任务", True),
    ("（一）推进农村厕所革命。2024年6月底前完成500户改厕任务。（牵头单位：县农业农村局；配合单位：县卫生健康局、县财政局；"
     "完成时限：2024年6月30日前）", False),
    ("（二）加强农村生活垃圾治理。年底前实现行政村生活垃圾收运处置体系全覆盖。（牵头单位：县城管局；配合单位：各乡镇人民政府；"
     "完成时限：2024年12月31日前）", False),
    ("（三）开展村庄清洁行动。每季度组织一次集中清理。（牵头单位：县农业农村局；配合单位：各乡镇人民政府；完成时限：长期坚持）",
     False),
]


def make_xlsx(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "任务分工"
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(["" if v is None else v for v in row])
        r = sheet.max_row
        if len(row) == 1:  # a section row spans the table
            sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(HEADER))
    # sub-row of item 2: 序号 and 工作任务 merged over two rows; 牵头单位 shared by items 3 and 4
    sheet.merge_cells("A5:A6")
    sheet.merge_cells("B5:B6")
    sheet.merge_cells("D7:D8")
    sheet["F8"].number_format = "yyyy-mm-dd"
    for column, width in zip("ABCDEF", (6, 22, 36, 18, 26, 16)):
        sheet.column_dimensions[column].width = width
    book.save(path)


def soffice_convert(source: Path, target_ext: str, out_dir: Path) -> Path:
    office = shutil.which("soffice")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([office, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", target_ext,
                        "--outdir", str(out_dir), str(source)], check=True, capture_output=True, timeout=300)
    return out_dir / (source.stem + "." + target_ext.split(":")[0])


def make_ofd(path: Path, easyofd_python: str) -> None:
    document = docx.Document()
    for text, heading in OFD_PLAN:
        document.add_paragraph(text, style="Title" if heading and text.endswith("方案") else None)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "ofd_plan.docx")
        document.save(source)
        pdf = soffice_convert(source, "pdf", Path(tmp))
        script = ("import sys; from easyofd.ofd import OFD; data = OFD().pdf2ofd(open(sys.argv[1], 'rb').read(), "
                  "optional_text=True); open(sys.argv[2], 'wb').write(data)")
        # easyofd leaves a debug copy ("test/") in its working directory: keep it in the temporary one
        subprocess.run([easyofd_python, "-c", script, str(pdf), str(path)], check=True, timeout=300, cwd=tmp)


def make_encrypted_xlsx(source: Path, path: Path, tools_python: str) -> None:
    script = ("import sys; from msoffcrypto.format.ooxml import OOXMLFile; "
              "OOXMLFile(open(sys.argv[1], 'rb')).encrypt('fixture-pw', open(sys.argv[2], 'wb'))")
    subprocess.run([tools_python, "-c", script, str(source), str(path)], check=True, timeout=120)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools-python", help="a Python interpreter with easyofd and msoffcrypto-tool installed")
    args = ap.parse_args()
    make_xlsx(HERE / "heichou_table.xlsx")
    soffice_convert(HERE / "heichou_table.xlsx", "xls", HERE)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp, "shaoyang_plan.docx")
        shutil.copy(SEED_DOCX, copy)
        shutil.copy(soffice_convert(copy, "doc", Path(tmp)), HERE / "shaoyang_plan.doc")
    if args.tools_python:
        make_ofd(HERE / "nongcun_plan.ofd", args.tools_python)
        make_encrypted_xlsx(HERE / "heichou_table.xlsx", HERE / "heichou_table_encrypted.xlsx", args.tools_python)


if __name__ == "__main__":
    main()
