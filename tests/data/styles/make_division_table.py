"""Regenerate division_table.docx (run once with the project venv; the .docx is the fixture)."""
from pathlib import Path

from docx import Document
from docx.shared import Pt
from docx.enum.text import WD_ALIGN_PARAGRAPH


def main():
    doc = Document()
    t = doc.add_paragraph()
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = t.add_run("郴州市2025年大气污染防治重点任务分工方案")
    r.bold = True
    r.font.size = Pt(18)
    n = doc.add_paragraph("郴政办函〔2025〕21号")
    n.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(
        "为持续改善全市环境空气质量，推动大气污染防治工作落细落实，根据省大气污染防治工作部署，"
        "结合我市实际，现将2025年大气污染防治6项重点任务分工如下，请各责任单位抓好落实。"
    )
    rows = [
        ("推进钢铁、水泥行业超低排放改造，2025年6月30日前完成有组织排放改造。",
         "市生态环境局（牵头）、市工业和信息化局", "2025年6月30日前"),
        ("加快淘汰国三及以下排放标准营运柴油货车。",
         "市交通运输局牵头，市公安局、市生态环境局配合", "2025年底前"),
        ("推进秸秆综合利用，落实露天焚烧网格化监管责任。",
         "市生态环境局牵头，市农业农村局配合", "持续推进"),
        ("实施城市扬尘精细化管控，每月公布各县市区扬尘管控排名。",
         "市住房城乡建设局（牵头）、市城管局、市交通运输局", "持续推进"),
        ("推进挥发性有机物综合治理，9月底前完成重点企业泄漏检测与修复。",
         "市生态环境局（牵头）、市工业和信息化局、市应急管理局", "2025年9月30日前"),
        ("加大大气污染防治资金投入。统筹生态环境专项资金，优先保障重点治理项目。",
         "市发展改革委（牵头）、市财政局", "2025年底前"),
    ]
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("序号", "重点任务", "责任单位", "完成时限")):
        cell.text = text
    for i, (task, units, due) in enumerate(rows, 1):
        cells = table.add_row().cells
        for cell, text in zip(cells, (str(i), task, units, due)):
            cell.text = text
    doc.save(Path(__file__).with_name("division_table.docx"))


if __name__ == "__main__":
    main()
