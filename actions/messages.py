"""Fixed sentences the action says, in one place. The document's number and title come from the
knowledge base, the hotline from the settings."""
from policy_kb import get_kb

from actions.config import HOTLINE

_DOC = get_kb().document
DOCUMENT = _DOC.number

GREET = (f"您好！我是{DOCUMENT}《{_DOC.short_title}》的政策问答助手。您可以问我某项措施的内容、由哪个部门负责、"
         "您是否符合条件、哪些地方属于山区26县，以及文件的施行日期等。")
GOODBYE = f"感谢您的咨询，再见！如需进一步帮助，可拨打{HOTLINE}人力资源和社会保障服务热线。"
THANK = "不客气！还有关于山区26县人力社保政策的问题，随时问我。"
REQUEST_HUMAN = (f"如需人工服务，可拨打{HOTLINE}人力资源和社会保障服务热线（工作时间），或前往当地人力资源和社会保障局"
                 "窗口咨询，也可通过“浙里办”App办理相关事项。")
AFFIRM = "好的。您还想了解哪项措施？可以直接问，比如“创业担保贷款有什么优惠”“开化县是山区县吗”。"
DENY = "好的。如有其他问题，欢迎随时提问。"
DROP_QUESTION = "好的，已结束这次资格判断。您可以随时重新提问。"
REPHRASE = ("抱歉，我没有完全理解您的问题。您可以换个说法，或直接说出关心的措施，"
            "例如“博士后补助”“飞地人才”“创业担保贷款”“职称评审”“开化县是山区县吗”。")
EMPTY = "您好像没有输入内容。请直接输入您的问题，例如“创业担保贷款有什么优惠”。"
SERVICE_UNAVAILABLE = f"抱歉，系统暂时无法处理您的问题，请稍后再试。急需咨询可拨打{HOTLINE}人力资源和社会保障服务热线。"
OUT_OF_SCOPE = (
    f"抱歉，这个问题不在{DOCUMENT}文件的范围内，我无法依据该文件回答。"
    f"您可以拨打{HOTLINE}人力资源和社会保障服务热线，咨询当地人力资源和社会保障局，"
    "或通过“浙里办”App查询办理。"
)
OUT_OF_SCOPE_HINT = "如果您想问的是本文件的内容，可以换个说法，例如“飞地人才有什么待遇”“开化县是山区县吗”。"
ASK_WHICH_UNITS = "请问您想了解哪一项措施的责任单位？例如“创业担保贷款由哪个部门负责”。"
ASK_WHICH_DEPARTMENT = "请问您想了解哪个部门？例如“省财政厅负责哪几条”。"
ASK_ABOUT_YOU = "请再介绍一下您的情况，例如所在县（市、区）、身份（高校毕业生、博士后、医护人员、企业等）和想办理的事项。"
OUTSIDE_ZHEJIANG = (f"{DOCUMENT}只适用于浙江省的山区26县，不涉及{{place}}的政策。"
                    f"{{place}}的相关政策请咨询当地人力资源和社会保障部门，或拨打当地{HOTLINE}热线。")
# Requests the document cannot answer by nature: instructions to the assistant itself.
MANIPULATION = (f"我只能依据{DOCUMENT}文件回答与山区26县人力社保政策有关的问题，不能执行其他指令。"
                f"其他问题请拨打{HOTLINE}或咨询当地人力资源和社会保障局。")
# Words a message quotes that the document does not contain.
NOT_THE_DOCUMENTS = "文件里没有“{what}”这样的内容。"
# After a point the document leaves open.
WHERE_TO_ASK = f"具体可咨询当地人力社保部门或拨打{HOTLINE}。"
NOT_NAMED = "文件没有提到{what}。"
# A group of people or units: not named, so nothing is laid down for them in particular.
NOT_NAMED_GROUP = "文件没有专门提到{what}。"
NO_SUCH_MEASURE = "文件的主要举措共{count}项（（一）至（{last}）），没有第{number}项。"
BOT_CHALLENGE = f"我是自动政策问答助手，不是人工客服。我的回答均依据{DOCUMENT}文件原文；具体办理请以当地人力社保部门的答复为准。"
# Small talk, by the intent that the words of a message carrying nothing else were read as.
SMALL_TALK = {"greet": GREET, "goodbye": GOODBYE, "thank": THANK, "request_human": REQUEST_HUMAN,
              "bot_challenge": BOT_CHALLENGE}
