"""Regenerate leader_table.docx (run once with the project venv; the .docx is the fixture)."""
from pathlib import Path

from docx import Document

ROWS = [
    ("开展河湖“清四乱”常态化规范化整治，2025年5月底前完成问题排查。", "分管水利的副市长", "市水利局",
     "市自然资源和规划局、市生态环境局", "2025年12月底前"),
    ("推进湘江干流水质稳定达到Ⅱ类。", "分管生态环境的副市长", "市生态环境局", "各县市区人民政府", "长期坚持"),
    ("完成蒸水河综合治理工程。", "市长", "市水利局", "市发展改革委、市财政局", "2025年第三季度"),
    ("建立河湖长述职考核制度，每年开展一次述职评议。", "市委副书记", "市河长办", "", "2025年6月"),
]


def main():
    doc = Document()
    doc.add_paragraph("衡阳市2025年河湖长制重点工作任务清单")
    doc.add_paragraph("衡河长办〔2025〕2号")
    doc.add_paragraph("现将2025年河湖长制重点工作任务清单印发给你们，请认真抓好落实。")
    table = doc.add_table(rows=1, cols=6)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("序号", "重点工作", "责任领导", "牵头单位", "配合单位", "完成时间")):
        cell.text = text
    for i, row in enumerate(ROWS, 1):
        for cell, text in zip(table.add_row().cells, (str(i), *row)):
            cell.text = text
    doc.save(Path(__file__).with_name("leader_table.docx"))


if __name__ == "__main__":
    main()
