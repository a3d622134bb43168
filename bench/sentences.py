# ruff: noqa: RUF001 (sentences in other scripts, on purpose)
"""Real sentences in the 33 languages translation supports: the detector's accuracy and cost measurement
(`python -m bench.translation`) and the end-to-end auto-detection tests use them."""

from __future__ import annotations

SENTENCES: dict[str, list[str]] = {
    "en": [
        "The weather is lovely today, so we are going for a walk in the park.",
        "Please read the instructions carefully before you install the software.",
    ],
    "zh": ["今天天气很好，我们打算去公园散步。", "请在安装软件之前仔细阅读说明书。"],
    "fr": [
        "Il fait beau aujourd'hui, alors nous allons nous promener dans le parc.",
        "Veuillez lire attentivement les instructions avant d'installer le logiciel.",
    ],
    "de": [
        "Heute ist das Wetter schön, deshalb gehen wir im Park spazieren.",
        "Bitte lesen Sie die Anleitung sorgfältig, bevor Sie die Software installieren.",
    ],
    "es": [
        "Hoy hace buen tiempo, así que vamos a dar un paseo por el parque.",
        "Por favor, lea atentamente las instrucciones antes de instalar el programa.",
    ],
    "it": [
        "Oggi il tempo è bello, quindi andiamo a fare una passeggiata nel parco.",
        "Si prega di leggere attentamente le istruzioni prima di installare il programma.",
    ],
    "ja": [
        "今日は天気がいいので、公園を散歩するつもりです。",
        "ソフトウェアをインストールする前に、説明書をよく読んでください。",
    ],
    "ko": [
        "오늘은 날씨가 좋아서 공원에 산책하러 갈 거예요.",
        "소프트웨어를 설치하기 전에 설명서를 주의 깊게 읽어 주세요.",
    ],
    "pt": [
        "Hoje o tempo está ótimo, então vamos dar um passeio no parque.",
        "Por favor, leia atentamente as instruções antes de instalar o programa.",
    ],
    "ru": [
        "Сегодня прекрасная погода, поэтому мы идём гулять в парк.",
        "Пожалуйста, внимательно прочитайте инструкцию перед установкой программы.",
    ],
    "nl": [
        "Het is vandaag mooi weer, dus we gaan een wandeling maken in het park.",
        "Lees de instructies zorgvuldig door voordat u de software installeert.",
    ],
    "sv": [
        "Det är fint väder idag, så vi ska ta en promenad i parken.",
        "Läs instruktionerna noggrant innan du installerar programvaran.",
    ],
    "no": [
        "Det er fint vær i dag, så vi skal gå en tur i parken.",
        "Vennligst les instruksjonene nøye før du installerer programvaren.",
    ],
    "da": [
        "Det er dejligt vejr i dag, så vi går en tur i parken.",
        "Læs venligst vejledningen omhyggeligt, før du installerer softwaren.",
    ],
    "fi": [
        "Tänään on kaunis ilma, joten menemme kävelylle puistoon.",
        "Lue ohjeet huolellisesti ennen kuin asennat ohjelmiston.",
    ],
    "pl": [
        "Dzisiaj jest piękna pogoda, więc idziemy na spacer do parku.",
        "Przed zainstalowaniem oprogramowania prosimy uważnie przeczytać instrukcję.",
    ],
    "tr": [
        "Bugün hava çok güzel, bu yüzden parkta yürüyüşe çıkıyoruz.",
        "Lütfen yazılımı yüklemeden önce talimatları dikkatlice okuyun.",
    ],
    "ar": ["الطقس جميل اليوم، لذلك سنذهب للتنزه في الحديقة.", "يرجى قراءة التعليمات بعناية قبل تثبيت البرنامج."],
    "he": ["מזג האוויר נעים היום, אז אנחנו יוצאים לטייל בפארק.", "אנא קראו את ההוראות בעיון לפני התקנת התוכנה."],
    "id": [
        "Cuaca hari ini sangat cerah, jadi kami akan berjalan-jalan di taman.",
        "Silakan baca petunjuknya dengan saksama sebelum memasang perangkat lunak.",
    ],
    "th": ["วันนี้อากาศดีมาก เราจึงจะไปเดินเล่นที่สวนสาธารณะ", "กรุณาอ่านคำแนะนำอย่างละเอียดก่อนติดตั้งซอฟต์แวร์"],
    "vi": [
        "Hôm nay trời đẹp nên chúng tôi sẽ đi dạo trong công viên.",
        "Vui lòng đọc kỹ hướng dẫn trước khi cài đặt phần mềm.",
    ],
    "hi": ["आज मौसम बहुत अच्छा है, इसलिए हम पार्क में टहलने जा रहे हैं।", "कृपया सॉफ़्टवेयर इंस्टॉल करने से पहले निर्देशों को ध्यान से पढ़ें।"],
    "ms": [
        "Cuaca sangat baik hari ini, jadi kami akan bersiar-siar di taman.",
        "Sila baca arahan dengan teliti sebelum memasang perisian tersebut.",
    ],
    "el": [
        "Ο καιρός είναι υπέροχος σήμερα, γι' αυτό θα πάμε βόλτα στο πάρκο.",
        "Παρακαλούμε διαβάστε προσεκτικά τις οδηγίες πριν εγκαταστήσετε το λογισμικό.",
    ],
    "cs": [
        "Dnes je krásné počasí, takže jdeme na procházku do parku.",
        "Před instalací softwaru si prosím pozorně přečtěte návod.",
    ],
    "sk": [
        "Dnes je pekné počasie, preto ideme na prechádzku do parku.",
        "Pred inštaláciou softvéru si, prosím, pozorne prečítajte návod.",
    ],
    "ro": [
        "Astăzi vremea este frumoasă, așa că mergem la o plimbare prin parc.",
        "Vă rugăm să citiți cu atenție instrucțiunile înainte de a instala programul.",
    ],
    "hu": [
        "Ma szép idő van, ezért elmegyünk sétálni a parkba.",
        "Kérjük, a szoftver telepítése előtt figyelmesen olvassa el az útmutatót.",
    ],
    "bg": [
        "Днес времето е прекрасно, затова ще се разходим в парка.",
        "Моля, прочетете внимателно инструкциите, преди да инсталирате програмата.",
    ],
    "hr": [
        "Danas je lijepo vrijeme, pa idemo u šetnju parkom.",
        "Molimo vas da pažljivo pročitate upute prije instaliranja softvera.",
    ],
    "sr": [
        "Данас је лепо време, па идемо у шетњу парком.",
        "Молимо вас да пажљиво прочитате упутство пре инсталирања софтвера.",
    ],
    "uk": [
        "Сьогодні чудова погода, тому ми йдемо гуляти в парк.",
        "Будь ласка, уважно прочитайте інструкцію перед встановленням програми.",
    ],
}
